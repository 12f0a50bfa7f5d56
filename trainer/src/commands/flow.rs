//! `trainer flow`: trains a continuous normalising flow on a point set (the
//! density task of `compare --task density`), checks that the runtime's
//! `nagode::flow` gives the trainer's log-density on the test points, and
//! only then writes the flow file (format 5, `ModelKind::Flow`) that
//! `trainer eval` and the firmware's feature `flow` read.

use crate::data::{points, PointSet};
use crate::engine::solver::SolverChoice;
use crate::error::AppError;
use crate::export::flow_to_bytes;
use crate::tasks::density::{flow_solver, log_density, mean_nll, train, DensityCfg};
use crate::tasks::window::check_parity;
use clap::Args;
use nagode::flow::{Flow, FlowModel};
use std::path::PathBuf;

/// Options of `trainer flow`.
#[derive(Args, Debug, Clone)]
pub struct FlowArgs {
    /// The point set.
    #[arg(long, value_enum, default_value = "moons")]
    pub data: PointSet,
    /// The solver integrating the flow over [0, 1].
    #[arg(long, value_enum, default_value = "nag")]
    pub solver: SolverChoice,
    /// Equal solver steps over [0, 1].
    #[arg(long, default_value_t = 8)]
    pub steps: usize,
    /// Hidden widths of the field (tanh).
    #[arg(long, value_delimiter = ',', default_value = "32,32")]
    pub hidden: Vec<usize>,
    /// Epochs (the best-validation epoch is kept).
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 5e-3)]
    pub lr: f32,
    /// Points per batch.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Seed of the points (toys), the split (BasicMotions) and the weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where the flow file goes.
    #[arg(long, default_value = "out/flow.nagode")]
    pub out: PathBuf,
}

/// Trains, checks runtime parity on the test points, writes the file and
/// prints the NLLs.
pub fn flow(args: &FlowArgs) -> Result<(), AppError> {
    let p = points(args.data, args.seed).map_err(AppError::from)?;
    if args.steps == 0 || args.hidden.is_empty() {
        return Err(AppError::Usage(
            "a flow needs --steps >= 1 and at least one hidden width".into(),
        ));
    }
    let cfg = DensityCfg {
        solver: flow_solver(args.solver, args.steps),
        hidden: args.hidden.clone(),
        epochs: args.epochs,
        batch: args.batch,
        lr: args.lr,
        clip: 1.0,
        seed: args.seed,
    };
    let trained = train(&p, &cfg)?;
    let bytes = flow_to_bytes(&trained.net, &cfg.solver)?;
    let model = FlowModel::from_bytes(&bytes).map_err(|e| AppError::Usage(e.to_string()))?;
    let mut runtime = Flow::<1024>::new(&model).map_err(|e| AppError::Usage(e.to_string()))?;
    let want = log_density(&trained.net, &cfg.solver, &p.test, p.dim)?;
    let got = p
        .test
        .chunks(p.dim)
        .map(|x| runtime.log_density(x))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(|e| AppError::Usage(format!("runtime log-density: {e}")))?;
    let (abs, rel) = check_parity(&got, &want, want.len(), &args.out)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AppError::Io {
            file: dir.display().to_string(),
            source,
        })?;
    }
    std::fs::write(&args.out, &bytes).map_err(|source| AppError::Io {
        file: args.out.display().to_string(),
        source,
    })?;
    let val = mean_nll(&trained.net, &cfg.solver, &p.val, p.dim)?;
    let test = mean_nll(&trained.net, &cfg.solver, &p.test, p.dim)?;
    println!(
        "== nagode trainer: flow on {} ({:?}, {} steps) ==",
        p.name, args.solver, args.steps
    );
    println!("dimension          {}", p.dim);
    println!("epochs             {}", args.epochs);
    println!("validation NLL     {val:.4} nats per point");
    println!("test NLL           {test:.4} nats per point");
    println!(
        "runtime parity     max |nagode - dfdx| = {abs:.3e} ({rel:.3e} relative) over {} test points",
        want.len()
    );
    println!(
        "cost               {} MACs per point",
        runtime.macs_per_sample()
    );
    println!(
        "model file         {} ({} bytes)",
        args.out.display(),
        bytes.len()
    );
    println!("training time      {:.1} s", trained.seconds);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: PathBuf) -> FlowArgs {
        FlowArgs {
            data: PointSet::Moons,
            solver: SolverChoice::Nag,
            steps: 4,
            hidden: vec![8],
            epochs: 1,
            lr: 1e-2,
            batch: 256,
            seed: 0,
            out,
        }
    }

    #[test]
    fn writes_a_flow_file_the_runtime_loads_and_refuses_no_steps() {
        let dir = std::env::temp_dir().join(format!("nagode-flow-{}", std::process::id()));
        let out = dir.join("moons.nagode");
        flow(&args(out.clone())).expect("trains and writes");
        let bytes = std::fs::read(&out).expect("written");
        let model = FlowModel::from_bytes(&bytes).expect("a flow file");
        assert_eq!(model.model().state_dim(), 2);
        let mut no_steps = args(dir.join("none.nagode"));
        no_steps.steps = 0;
        assert!(matches!(flow(&no_steps), Err(AppError::Usage(_))));
        assert!(!dir.join("none.nagode").exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
