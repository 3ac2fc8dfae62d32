//! `cargo run --release -p bootcheck-capture --example throughput FILE`: check a capture
//! with the library alone and print packets/s (the CLI's `check -q` does the same work).
fn main() {
    let path = std::env::args().nth(1).expect("usage: throughput FILE");
    let t = std::time::Instant::now();
    let mut n = 0u64;
    let s = bootcheck_capture::check_file(std::path::Path::new(&path), Default::default(), &mut |_| n += 1)
        .expect("readable");
    let e = t.elapsed();
    println!(
        "{} packets, {} outputs in {:.3} s: {:.0} packets/s",
        s.packets,
        n,
        e.as_secs_f64(),
        s.packets as f64 / e.as_secs_f64()
    );
}
