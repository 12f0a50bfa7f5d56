fn main() {
    eprintln!("trainer: not built yet (issue 4)");
    std::process::exit(1);
}
