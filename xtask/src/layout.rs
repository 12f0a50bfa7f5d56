//! The README's layout names every module: a file or folder added under a
//! crate's `src/` without a word in that crate's entry of the layout fails
//! `cargo xtask test`, so the layout cannot fall behind the tree again.

use std::fs;
use std::path::Path;

/// Each crate's entry in the layout (the line that starts with it and the
/// indented lines under it) and its source folders.
const CRATES: &[(&str, &[&str])] = &[
    ("runtime/", &["runtime/src"]),
    ("trainer/", &["trainer/src"]),
    ("firmware/", &["firmware/src", "firmware/sample-source/src"]),
    ("tests/", &["tests/src"]),
    ("xtask/", &["xtask/src"]),
];

/// Files every crate has, that name no module.
const ROOTS: &[&str] = &["lib", "main", "mod", "bin"];

/// Checks the layout block of `README.md` under `root`; the error lists
/// every module it misses, with its path.
pub fn check(root: &Path) -> Result<(), String> {
    let readme = fs::read_to_string(root.join("README.md"))
        .map_err(|e| format!("layout: README.md: {e}"))?;
    let layout = layout_block(&readme).ok_or("layout: README.md has no `## Layout` code block")?;
    let mut missing = Vec::new();
    for (entry, dirs) in CRATES {
        let text = crate_entry(layout, entry);
        for dir in *dirs {
            let mut names = Vec::new();
            modules(&root.join(dir), dir, &mut names)?;
            for (name, path) in names {
                if !names_word(&text, &name) {
                    missing.push(format!("{path} (`{name}` under `{entry}`)"));
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "layout: README.md's layout does not name {}",
            missing.join(", ")
        ))
    }
}

/// The first fenced block after the `## Layout` heading.
fn layout_block(readme: &str) -> Option<&str> {
    let after = &readme[readme.find("## Layout")?..];
    let start = after.find("```")? + 3;
    let len = after[start..].find("```")?;
    Some(&after[start..start + len])
}

/// The lines of `entry`: the one that starts with it and the indented ones
/// that follow, up to the next entry.
fn crate_entry(layout: &str, entry: &str) -> String {
    let mut lines = layout.lines().skip_while(|l| !l.starts_with(entry));
    let first = lines.next().unwrap_or_default();
    let rest = lines.take_while(|l| l.starts_with(' '));
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module under `dir` (files and folders), with its path for the
/// message.
fn modules(dir: &Path, shown: &str, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("layout: {}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let shown = format!(
            "{shown}/{}",
            path.file_name().and_then(|s| s.to_str()).unwrap_or(stem)
        );
        if path.is_dir() {
            if !ROOTS.contains(&stem) {
                out.push((stem.to_string(), shown.clone()));
            }
            modules(&path, &shown, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") && !ROOTS.contains(&stem) {
            out.push((stem.to_string(), shown));
        }
    }
    Ok(())
}

/// Whether `text` holds `word` with no letter, digit, `_` or `-` touching
/// either end.
fn names_word(text: &str, word: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_is_found_only_whole() {
        assert!(names_word("solver, format", "format"));
        assert!(names_word("(flows), export", "flows"));
        assert!(!names_word("formats", "format"));
        assert!(!names_word("density_compare", "density"));
        assert!(!names_word("make-models", "models"));
    }

    #[test]
    fn an_entry_ends_at_the_next_crate() {
        let layout = "runtime/   a, b\n           c\ntrainer/   d\n";
        assert_eq!(
            crate_entry(layout, "runtime/"),
            "runtime/   a, b\n           c"
        );
        assert_eq!(crate_entry(layout, "trainer/"), "trainer/   d");
    }

    #[test]
    fn this_readme_names_every_module() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        check(&root).unwrap_or_else(|e| panic!("{e}"));
    }
}
