use trainer::data::*;
use trainer::net::*;
use trainer::solver::*;
use trainer::train::*;
fn main() {
    let dev: dfdx::prelude::Cpu = Default::default();
    let (t, _) = builtin(Builtin::Ecg, 0).unwrap();
    let p = make_problem(&t, None, WindowSpec { task: TaskKind::Forecast, window: 64, horizon: 8, stride: 4, seed: 0 }).unwrap();
    let arch = Arch { channels: 1, encoder: vec![], state_dim: 8, hidden: vec![32, 32], decoder: vec![], outputs: p.outputs(), window: p.window };
    let s = SolverCfg { kind: SolverChoice::Nag, mu: 0.5, consistency: true, startup_euler: false, max_step: 1.0 };
    let net = Net::new(&dev, &arch, s.kind, 0);
    println!("train windows {} params {}", p.train.len, net.param_count());
    let cfg = TrainCfg { epochs: 2, batches_per_epoch: 50, ..Default::default() };
    let r = train(net, &s, &p, &cfg, &dev, |l| println!("{l:?}")).unwrap();
    println!("{} it/s {:.3}s per it", r.iterations, r.seconds / r.iterations as f64);
    println!("naive test {}", naive(&p, &p.test));
}
