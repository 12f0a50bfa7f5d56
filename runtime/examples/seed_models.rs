//! Writes the small hand-built model files used as fuzzing seeds and in the
//! bad-model corpus: `cargo run -p nagode --example seed_models -- DIR`.

#[path = "../tests/common/mod.rs"]
mod common;

use nagode::format::SolverKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: seed_models DIR")?);
    std::fs::create_dir_all(&dir)?;
    let scalar = common::scalar_header(8, SolverKind::Nag);
    let files = [
        ("rich.nagode", common::rich_file()),
        (
            "scalar_nag.nagode",
            common::encode(&scalar, &[-0.5, 1.0, 0.0, 1.0, 0.0]),
        ),
    ];
    for (name, bytes) in files {
        nagode::Model::from_bytes(&bytes)?;
        std::fs::write(dir.join(name), &bytes)?;
        println!("{name}: {} bytes", bytes.len());
    }
    Ok(())
}
