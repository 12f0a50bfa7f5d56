//! Where the commands run: the workspace's root, and cargo there or inside
//! firmware/. A module of its own so that every task (the checks, the
//! figures) reaches cargo the same way without importing the command line.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root (the folder above xtask/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo (the one running xtask, if any) in the workspace's root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// Cargo inside firmware/ (its own workspace and `.cargo/config.toml`).
pub fn firmware_cargo() -> Command {
    let mut command = cargo();
    command
        .current_dir(root().join("firmware"))
        .env_remove("CARGO_TARGET_DIR");
    command
}
