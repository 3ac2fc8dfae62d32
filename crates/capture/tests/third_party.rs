//! `bootcheck check` over every third-party capture in ../shared/captures/third-party
//! (real traffic and fuzzer-found damage from other projects, see SOURCES.md there):
//! no panic, and the verdicts are pinned as insta snapshots (one per capture), so a
//! change of any rule, pairing or reader decision shows up as a reviewed diff.

use std::path::{Path, PathBuf};

use bootcheck_capture::{render, Options, Output};

fn third_party() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures/third-party");
    dir.is_dir().then_some(dir)
}

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The check of one capture as text: every exchange and issue (the first 150 lines of
/// them, then a count), then the summary.
fn render_check(path: &Path) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut more = 0usize;
    let mut sink = |o: Output| {
        let text = match o {
            Output::Exchange(e) => render::exchange(&e),
            Output::Issue(i) => render::issue(&i),
        };
        if lines.len() < 150 {
            lines.push(text);
        } else {
            more += 1;
        }
    };
    match bootcheck_capture::check_file(path, Options::default(), &mut sink) {
        Ok(summary) => {
            if more > 0 {
                lines.push(format!("… {more} more"));
            }
            lines.push(render::summary(&summary));
        }
        Err(e) => lines.push(format!("error: {e}")),
    }
    lines.join("\n")
}

#[test]
fn every_third_party_capture_is_checked_without_a_panic_and_its_verdicts_are_pinned() {
    let Some(dir) = third_party() else {
        assert!(std::env::var_os("CI").is_none(), "../shared/captures/third-party is missing in CI");
        eprintln!("skipped: ../shared/captures/third-party not found");
        return;
    };
    let files = captures(&dir);
    assert!(files.len() >= 30, "expected the whole third-party collection, found {} files", files.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/third-party");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for f in &files {
            let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
            let name = rel.replace(['/', '.'], "_");
            let text = render_check(f);
            insta::assert_snapshot!(name, text, &rel);
        }
    });
}
