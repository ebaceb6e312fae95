//! The table the benchmarks print: one row per figure, with its target and whether it was met.

pub fn row(figure: &str, value: &str, target: &str, pass: Option<bool>) {
    let result = match pass {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "",
    };
    println!("{figure:<52} {value:>12} {target:>10}  {result}");
}

/// An indented line under the row it explains.
pub fn note(text: &str) {
    println!("  {text}");
}
