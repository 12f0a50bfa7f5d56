//! `cargo xtask measure`'s static-input rows (issue 24): the digits model
//! (`firmware/models/static_digits.nagode`, format 6) in the `classify`
//! image (firmware feature `static`), loaded and compiled, on every core:
//! flash, RAM, instructions per classification and per depth of the dial
//! (the same model run with 1 ..= its steps and twice its steps).

use integration::qemu::{self, Build, Run, RUN_TIMEOUT};

/// The model measured.
const MODEL: &str = "static_digits.nagode";

/// The `n`-th number of the first `tag` line.
fn field(run: &Run, tag: &str, n: usize) -> Result<u64, String> {
    run.numbers(tag)?
        .get(n)
        .copied()
        .ok_or_else(|| format!("{tag} line has no field {n}"))
}

/// One core and path: the table's cells after the first two.
fn measure(run: &Run) -> Result<String, String> {
    let per_tick = field(run, "CAL", 1)? as f64 / field(run, "CAL", 0)?.max(1) as f64;
    let instructions = |tag: &str, at: usize| -> Result<f64, String> {
        Ok(field(run, tag, at + 1)? as f64 * per_tick / field(run, tag, at)?.max(1) as f64)
    };
    let dial: Vec<String> = run
        .tagged("DIAL")
        .map(|f| {
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            format!("{}: {:.0}", n(0), n(2) * per_tick / n(1).max(1.0))
        })
        .collect();
    Ok(format!(
        "{} | {} | {} | {:.0} | {} |",
        field(run, "FLASH", 0)?,
        field(run, "RAM", 0)?,
        field(run, "TICKS", 2)?,
        instructions("TICKS", 0)?,
        dial.join(", ")
    ))
}

/// Builds, runs (with `-icount`) and measures every core and path; prints
/// the table.
pub fn print_table() -> Result<(), String> {
    let model = qemu::firmware_dir().join("models").join(MODEL);
    println!("\nStatic-input classifier (issue 24: `{MODEL}`, 64 pixels → 64 → field [64 + t] → 32 → 64, NAG 4 steps → 10 classes, 21,248 multiply-adds at 4 steps; `classify` image, feature `static`):\n");
    println!("| core (QEMU machine) | path | flash | static RAM | peak stack | instructions / classification | depth dial: steps: instructions |");
    println!("|---|---|---:|---:|---:|---:|---|");
    for board in qemu::qemu_boards() {
        for (path, features) in [
            ("loaded", &["static"][..]),
            ("compiled", &["static", "compiled"]),
        ] {
            let elf = Build {
                board,
                model: Some(model.clone()),
                features,
                tag: &format!("measure-static-{path}"),
            }
            .run()?;
            let run = qemu::run_qemu(board, &elf, true, RUN_TIMEOUT)?;
            if run.code != Some(0) {
                return Err(format!(
                    "{} static {path} failed:\n{}",
                    board.name, run.stdout
                ));
            }
            println!(
                "| {} ({}) | {path} | {}",
                board.core,
                board.machine,
                measure(&run)?
            );
        }
    }
    Ok(())
}
