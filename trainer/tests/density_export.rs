//! A flow exported as a format-5 flow file gives, through the runtime's
//! `nagode::flow`, the log-density the trainer computes: within 1e-5
//! relative (to `max(|log p|, 1)`) on test points, for every solver, on the
//! two moons (trained) and BasicMotions' 6-D points (a wide field).

use dfdx::prelude::Cpu;
use nagode::flow::{Flow, FlowModel};
use trainer::data::{points, PointSet};
use trainer::engine::params::Net;
use trainer::engine::solver::{SolverCfg, SolverChoice};
use trainer::export::flow_to_bytes;
use trainer::tasks::density::{flow_net, flow_solver, log_density, train, DensityCfg};

const SOLVERS: [SolverChoice; 4] = [
    SolverChoice::Nag,
    SolverChoice::Euler,
    SolverChoice::Midpoint,
    SolverChoice::Rk4,
];

/// The worst relative gap between the trainer's and the runtime's
/// `log p` over `pts`, after checking every point against `1e-5`.
fn compare(net: &Net, solver: &SolverCfg, pts: &[f32], dim: usize, what: &str) -> f64 {
    let want = log_density(net, solver, pts, dim).expect("trainer log p");
    let bytes = flow_to_bytes(net, solver).expect("exports");
    let model = FlowModel::from_bytes(&bytes).expect("a flow file");
    let mut flow = Flow::<32>::new(&model).expect("fits");
    let mut worst = 0f64;
    for (k, (x, want)) in pts.chunks(dim).zip(&want).enumerate() {
        let got = flow.log_density(x).expect("runtime log p");
        let rel = f64::from((got - want).abs()) / f64::from(want.abs().max(1.0));
        assert!(
            rel < 1e-5,
            "{what} point {k}: runtime {got}, trainer {want}"
        );
        worst = worst.max(rel);
    }
    worst
}

#[test]
fn trained_moons_flows_give_the_trainers_log_density() {
    let p = points(PointSet::Moons, 0).expect("moons");
    let test = &p.test[..200 * p.dim];
    for kind in SOLVERS {
        let cfg = DensityCfg {
            solver: flow_solver(kind, 8),
            hidden: vec![32, 32],
            epochs: 1,
            batch: 256,
            lr: 1e-2,
            clip: 1.0,
            seed: 0,
        };
        let t = train(&p, &cfg).expect("trains");
        let worst = compare(&t.net, &cfg.solver, test, p.dim, &format!("moons {kind:?}"));
        eprintln!("moons {kind:?}: worst relative gap {worst:.2e}");
    }
}

#[test]
fn six_dimensional_flows_give_the_trainers_log_density() {
    let p = points(PointSet::Motions, 0).expect("BasicMotions");
    let test = &p.test[..100 * p.dim];
    let dev: Cpu = Default::default();
    for kind in SOLVERS {
        let mut net = flow_net(&dev, p.dim, &[24, 16], 5);
        // Larger than the gentle initial last layer, so the flow moves the
        // points and the trace is not tiny.
        for l in &mut net.fields[0].rest {
            let w: Vec<f32> = l.wt.as_vec().iter().map(|v| v * 6.0).collect();
            l.wt.copy_from(&w);
        }
        let solver = flow_solver(kind, 8);
        let worst = compare(&net, &solver, test, p.dim, &format!("motions {kind:?}"));
        eprintln!("motions {kind:?}: worst relative gap {worst:.2e}");
    }
}

/// `trainer eval` on a flow file and a CSV of points prints the runtime's
/// mean NLL, the trainer's own within 1e-5 relative.
#[test]
fn eval_reports_a_flows_nll_through_the_runtime() {
    let p = points(PointSet::Moons, 1).expect("moons");
    let dev: Cpu = Default::default();
    let mut net = flow_net(&dev, 2, &[16, 16], 3);
    for l in &mut net.fields[0].rest {
        let w: Vec<f32> = l.wt.as_vec().iter().map(|v| v * 6.0).collect();
        l.wt.copy_from(&w);
    }
    let solver = flow_solver(SolverChoice::Rk4, 8);
    let test = &p.test[..300 * 2];
    let want = trainer::tasks::density::mean_nll(&net, &solver, test, 2).expect("trainer NLL");
    let dir = std::env::temp_dir().join(format!("nagode-flow-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let (model, csv) = (dir.join("moons.nagode"), dir.join("moons.csv"));
    std::fs::write(&model, flow_to_bytes(&net, &solver).expect("exports")).expect("writes");
    let rows: String = test
        .chunks(2)
        .map(|x| format!("{},{}\n", x[0], x[1]))
        .collect();
    std::fs::write(&csv, format!("x,y\n{rows}")).expect("writes");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["eval", "--model"])
        .arg(&model)
        .arg("--csv")
        .arg(&csv)
        .output()
        .expect("runs");
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: f64 = stdout
        .strip_prefix("300 points: NLL ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output: {stdout}"));
    eprintln!("{stdout}trainer NLL {want:.6}");
    assert!(
        (got - want).abs() < 1e-5 * want.abs().max(1.0),
        "{got} vs {want}"
    );
}
