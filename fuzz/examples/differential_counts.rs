//! Run the `differential_dhcproto` comparison over corpus directories and count the
//! outcomes: both accept and agree, both reject, and each known difference
//! (`fuzz/differential-known.md`). An unexplained disagreement is printed with its file
//! and counted; the exit status is then 1.
//!
//! ```sh
//! cd fuzz
//! cargo run --release --example differential_counts -- corpus/differential_dhcproto /tmp/diff-new
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use bootcheck_fuzz::differential::{differential, Known};

fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    let mut inputs = 0usize;
    let mut agree = 0usize;
    let mut both_reject = 0usize;
    let mut known: BTreeMap<Known, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    std::panic::set_hook(Box::new(|_| {}));
    for d in &dirs {
        let Ok(rd) = std::fs::read_dir(Path::new(d)) else {
            eprintln!("cannot read {d}");
            continue;
        };
        for e in rd.flatten() {
            let Ok(bytes) = std::fs::read(e.path()) else { continue };
            inputs += 1;
            match std::panic::catch_unwind(|| differential(&bytes)) {
                Ok(o) => {
                    if o.both_reject {
                        both_reject += 1;
                    } else if o.known.is_empty() {
                        agree += 1;
                    }
                    for k in o.known {
                        *known.entry(k).or_default() += 1;
                    }
                }
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    unexplained.push((e.path().display().to_string(), msg));
                }
            }
        }
    }
    println!("inputs: {inputs}");
    println!("agree (both accept, no known difference): {agree}");
    println!("both reject: {both_reject}");
    for k in Known::ALL {
        println!("known {:<20} {}", k.name(), known.get(&k).copied().unwrap_or(0));
    }
    println!("unexplained: {}", unexplained.len());
    for (f, m) in &unexplained {
        println!("  {f}: {m}");
    }
    if !unexplained.is_empty() {
        std::process::exit(1);
    }
}
