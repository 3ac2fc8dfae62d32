//! Memory does not grow with the capture: what the checker holds at its peak is the
//! same for 80,000 packets of synthetic boot traffic and for three times as many (it
//! depends on the traffic's rate and the pairing window, not on the file's length).

use std::path::{Path, PathBuf};
use std::time::Duration;

use bootcheck_capture::writer::PcapWriter;
use bootcheck_capture::{ExchangeVerdict, Options, Output};
use bootcheck_refserver::synth::Traffic;
use bootcheck_wire::frame::LinkType;

fn capture(n: usize) -> PathBuf {
    let site = bootcheck_scenario::load_site(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/site.yaml"))
        .expect("site");
    let path = std::env::temp_dir().join(format!("bootcheck-flat-{}-{n}.pcap", std::process::id()));
    let mut w =
        PcapWriter::new(std::io::BufWriter::new(std::fs::File::create(&path).expect("create")), LinkType::Ethernet)
            .expect("writer");
    for (t, f) in Traffic::new(site).take(n) {
        w.write(Duration::from_secs(1_800_000_000) + t, &f).expect("write");
    }
    w.finish().expect("finish");
    path
}

#[test]
fn the_peak_held_does_not_grow_with_the_file() {
    let mut peaks = Vec::new();
    // 80,000 packets are past the warm-up (the first window of capture time).
    for n in [80_000, 240_000] {
        let path = capture(n);
        let mut fails = 0;
        let s = bootcheck_capture::check_file(&path, Options::default(), &mut |o| {
            if let Output::Exchange(e) = o {
                fails += usize::from(e.verdict == ExchangeVerdict::Fail);
            }
        })
        .expect("check");
        let _ = std::fs::remove_file(&path);
        assert_eq!(s.packets, n as u64);
        assert_eq!(fails, 0, "the reference server's traffic is conformant");
        peaks.push((s.peak_open, s.peak_held_octets));
    }
    let (small, big) = (peaks[0], peaks[1]);
    assert!(small.1 > 0);
    assert!(big.0 <= small.0 + small.0 / 10, "open exchanges grew: {small:?} → {big:?}");
    assert!(big.1 <= small.1 + small.1 / 10, "held octets grew: {small:?} → {big:?}");
}
