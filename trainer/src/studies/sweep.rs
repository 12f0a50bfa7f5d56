//! Sweeps of independent runs: an explicit, ordered job list run in
//! parallel on one machine, or cut into shards (one per array task of a
//! Slurm job array or a Kubernetes Indexed Job), each writing a results
//! file that `trainer merge` puts back together.
//!
//! A job's result depends on the job alone (its own seed, its own device),
//! never on the thread it ran on or on the other jobs, so any cut of the
//! list gives the same numbers.

use crate::error::AppError;
use crate::export::write_atomic;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One shard of a sweep: the jobs whose index modulo `count` is `index`.
/// 0-based, as `$SLURM_ARRAY_TASK_ID` (`--array=0-7`) and Kubernetes'
/// `$JOB_COMPLETION_INDEX` are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// Shards in the sweep.
    pub count: usize,
}

impl Shard {
    /// The whole sweep as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether job `job` belongs to this shard.
    pub fn has(self, job: usize) -> bool {
        job % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("shard `{s}`: {why} (expected I/N, 0 <= I < N, e.g. 0/8)");
        let (i, n) = s.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let num = |x: &str| x.trim().parse::<usize>().map_err(|_| bad("not a number"));
        let (index, count) = (num(i)?, num(n)?);
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index >= count {
            return Err(bad("I must be below N (shards count from 0)"));
        }
        Ok(Shard { index, count })
    }
}

/// Runs `run` on the jobs of `shard` on `threads` threads (0: every core,
/// or `RAYON_NUM_THREADS`); the results in job order, each with its index.
///
/// The pool is also the one dfdx's matrix products (gemm) split over when
/// called from a job, so nested parallelism shares these threads rather
/// than oversubscribing the cores; gemm splits only the output tiles, never
/// a sum, so its numbers do not depend on the thread count.
pub fn run_jobs<J, R, F>(
    jobs: &[J],
    shard: Shard,
    threads: usize,
    run: F,
) -> Result<Vec<(usize, R)>, AppError>
where
    J: Sync,
    R: Send,
    F: Fn(&J) -> Result<R, AppError> + Sync,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| AppError::Usage(format!("cannot start {threads} threads: {e}")))?;
    pool.install(|| {
        jobs.par_iter()
            .enumerate()
            .filter(|(k, _)| shard.has(*k))
            .map(|(k, job)| run(job).map(|r| (k, r)))
            .collect()
    })
}

/// A shard's results file: what was swept (so that shards of different
/// sweeps are never merged), which shard, and its jobs' results (`T`: a
/// slice of (job index, result) to write, a `Vec` when read).
#[derive(Serialize, Deserialize)]
struct ShardFile<T> {
    /// Which command wrote it.
    format: String,
    /// The options that define the sweep, as a command line.
    sweep: Vec<String>,
    /// Jobs in the whole sweep.
    jobs: usize,
    shard: Shard,
    results: T,
}

/// Writes a shard's results (atomically) as JSON.
pub fn write_shard<R: Serialize>(
    path: &Path,
    format: &str,
    sweep: &[String],
    jobs: usize,
    shard: Shard,
    results: &[(usize, R)],
) -> Result<(), AppError> {
    let file = ShardFile {
        format: format.to_string(),
        sweep: sweep.to_vec(),
        jobs,
        shard,
        results,
    };
    let json = serde_json::to_vec_pretty(&file)
        .map_err(|e| AppError::Usage(format!("{}: {e}", path.display())))?;
    Ok(write_atomic(path, &json)?)
}

/// The `format` of a results file (which command wrote it).
pub fn format_of(path: &Path) -> Result<String, AppError> {
    #[derive(Deserialize)]
    struct Head {
        format: String,
    }
    let bytes = std::fs::read(path).map_err(|source| AppError::Io {
        file: path.display().to_string(),
        source,
    })?;
    let head: Head = serde_json::from_slice(&bytes).map_err(|e| {
        AppError::Usage(format!(
            "merge: {}: not a results file: {e}",
            path.display()
        ))
    })?;
    Ok(head.format)
}

/// Refuses shard files that are not all of one sweep, cut one way, and
/// written by the `format` expected.
fn same_sweep<R>(files: &[(&PathBuf, ShardFile<R>)], format: &str) -> Result<(), AppError> {
    let Some((first, head)) = files.first() else {
        return Ok(());
    };
    let (sweep, jobs, count) = (&head.sweep, head.jobs, head.shard.count);
    for (path, f) in files {
        if f.format != format {
            return Err(refuse_merge(format!(
                "{} was written by `{}`, not `{format}`",
                path.display(),
                f.format
            )));
        }
        if f.sweep != *sweep || f.jobs != jobs {
            return Err(refuse_merge(format!(
                "{} is a shard of another sweep than {}:\n  {}\n  {}",
                path.display(),
                first.display(),
                f.sweep.join(" "),
                sweep.join(" ")
            )));
        }
        if f.shard.count != count {
            return Err(refuse_merge(format!(
                "{} is shard {} but {} is shard {}: the sweep was cut two ways",
                path.display(),
                f.shard,
                first.display(),
                head.shard
            )));
        }
    }
    Ok(())
}

/// A `merge` refusal.
fn refuse_merge(m: String) -> AppError {
    AppError::Usage(format!("merge: {m}"))
}

/// The sweep (its command line) and every job's result in job order from
/// the shard files `paths`, refused unless they are shards of one sweep
/// that cover every job exactly once.
pub fn merge<R: DeserializeOwned>(
    paths: &[PathBuf],
    format: &str,
) -> Result<(Vec<String>, Vec<R>), AppError> {
    let refuse = refuse_merge;
    let files = paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|source| AppError::Io {
                file: p.display().to_string(),
                source,
            })?;
            let f: ShardFile<Vec<(usize, R)>> = serde_json::from_slice(&bytes)
                .map_err(|e| refuse(format!("{}: not a results file: {e}", p.display())))?;
            Ok((p, f))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let Some((_, head)) = files.first() else {
        return Err(refuse("no shard files given".into()));
    };
    let (sweep, jobs, count) = (head.sweep.clone(), head.jobs, head.shard.count);
    same_sweep(&files, format)?;
    let mut slots: Vec<Option<(R, &PathBuf)>> = (0..jobs).map(|_| None).collect();
    for (path, f) in files {
        for (k, r) in f.results {
            let slot = slots.get_mut(k).filter(|_| f.shard.has(k)).ok_or_else(|| {
                refuse(format!(
                    "{}: job {k} is not in shard {}",
                    path.display(),
                    f.shard
                ))
            })?;
            if let Some((_, other)) = slot {
                return Err(refuse(format!(
                    "job {k} is in both {} and {} (shard {} given twice?)",
                    other.display(),
                    path.display(),
                    f.shard
                )));
            }
            *slot = Some((r, path));
        }
    }
    let missing: Vec<usize> = (0..jobs).filter(|&k| slots[k].is_none()).collect();
    if !missing.is_empty() {
        let mut shards: Vec<usize> = missing.iter().map(|k| k % count).collect();
        shards.sort_unstable();
        shards.dedup();
        return Err(refuse(format!(
            "{} of {jobs} jobs missing: no results for shard(s) {}",
            missing.len(),
            shards
                .iter()
                .map(|s| format!("{s}/{count}"))
                .collect::<Vec<_>>()
                .join(", "),
        )));
    }
    Ok((sweep, slots.into_iter().flatten().map(|(r, _)| r).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_i_of_n_and_split_the_jobs_once() {
        assert_eq!("0/1".parse(), Ok(Shard::ALL));
        assert_eq!("7/8".parse(), Ok(Shard { index: 7, count: 8 }));
        for (bad, why) in [
            ("0/0", "at least 1"),
            ("2/2", "below N"),
            ("9/8", "below N"),
            ("3", "no `/`"),
            ("a/3", "not a number"),
            ("-1/3", "not a number"),
        ] {
            let e = bad.parse::<Shard>().expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
        for count in 1..5 {
            for job in 0..20 {
                let owners = (0..count)
                    .filter(|&index| Shard { index, count }.has(job))
                    .count();
                assert_eq!(owners, 1, "job {job} of {count} shards");
            }
        }
    }
}
