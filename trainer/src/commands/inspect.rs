//! `trainer inspect MODEL`: what a model file holds, in words.

use super::files::{load, patch_layout, patched_range, read, ModelArg};
use crate::error::AppError;
use crate::export::host::HostError;
use nagode::format::{
    model_kind, Activation, Header, Layer, ModelKind, SolverKind, SolverSpec, Startup, Task,
    STATIC_VERSION,
};
use nagode::normalise::Reference;
use nagode::{Capacities, Model, StaticModel};
use std::fmt::Write as _;

/// `trainer inspect MODEL`.
pub fn inspect(model: &ModelArg) -> Result<(), AppError> {
    let path = model.path();
    let bytes = read(path)?;
    if model_kind(&bytes) == Ok(ModelKind::Static) {
        let loaded = StaticModel::from_bytes(&bytes)
            .map_err(|e| AppError::Usage(format!("{}: {}", path.display(), HostError::from(e))))?;
        print!("{}", describe(path, &bytes, loaded.model()));
    } else {
        print!("{}", describe(path, &bytes, &load(path, &bytes)?));
    }
    Ok(())
}

/// What `inspect` prints.
fn describe(path: &std::path::Path, bytes: &[u8], model: &Model<'_>) -> String {
    let h = model.header();
    let mut s = format!(
        "{}: {} bytes, format {}, checksum OK, loads\n",
        path.display(),
        bytes.len(),
        model.format_version()
    );
    let _ = writeln!(s, "task        {}", task(model));
    let _ = writeln!(s, "input       {}", input(model));
    if let Some(l) = patch_layout(model) {
        let _ = writeln!(
            s,
            "patch       {} samples per input (channels {}): the data's {} read {} samples at a \
             time, oldest first; the window of {} patches covers {} samples \
             (`trainer eval`/`predict` group a CSV's columns {} this way)",
            l.k,
            patched_range(&l),
            l.bases.join(", "),
            l.k,
            h.window,
            usize::from(h.window) * l.k,
            l.bases.join(",")
        );
    }
    let _ = writeln!(
        s,
        "time        gaps in {}; nominal gap {} = {} unit(s) of solver time",
        crate::tasks::window::clock_units(h.clock),
        model.nominal_gap(),
        h.sample_dt
    );
    let _ = writeln!(s, "normalise   {}", normalise(h));
    let _ = writeln!(s, "encoder     {}", layers(&h.encoder));
    let _ = writeln!(
        s,
        "state       {} dimensions, diverged beyond |y| > {}",
        h.state_dim, h.state_bound
    );
    let _ = writeln!(s, "field       {}", layers(&h.field));
    let _ = writeln!(s, "decoder     {}", layers(&h.decoder));
    let _ = writeln!(
        s,
        "solver      {}; longest step {} of solver time ({} in the data's units)",
        solver(&h.solver),
        h.solver.max_step,
        h.solver.max_step * h.time_unit
    );
    s.push_str(&costs(model, bytes));
    s
}

/// What the outputs mean.
fn task(model: &Model<'_>) -> String {
    match model.header().task {
        Task::Forecast { horizon } => {
            format!("forecast the next {horizon} samples of every channel")
        }
        Task::Classify { classes } => {
            let what = if is_static(model) {
                "a static input"
            } else {
                "a window"
            };
            let names: Vec<&str> = model.class_names().collect();
            if names.is_empty() {
                format!("classify {what} into {classes} classes (unnamed)")
            } else {
                format!(
                    "classify {what} into {classes} classes: {}",
                    names.join(", ")
                )
            }
        }
    }
}

/// A static-input classifier (format 6): one input of features, its
/// state integrated over [0, 1].
fn is_static(model: &Model<'_>) -> bool {
    model.format_version() == STATIC_VERSION
}

/// Channels (named when the file names them) and window.
fn input(model: &Model<'_>) -> String {
    let h = model.header();
    if is_static(model) {
        return format!(
            "{} features, one input (raw: the feature scaling is folded into the encoder); \
             the state starts at the encoded input and is integrated over [0, 1] in steps of {}",
            h.channels, h.solver.max_step
        );
    }
    let channels: Vec<&str> = model.channel_names().collect();
    let names = if channels.is_empty() {
        String::new()
    } else {
        format!(" ({})", channels.join(", "))
    };
    format!(
        "{} channels{names}, window of {} samples",
        h.channels, h.window
    )
}

/// The reference and per-channel statistics.
fn normalise(h: &Header) -> String {
    let reference = match h.reference {
        Reference::Global => "absolute levels",
        Reference::LastValue => "changes from the window's last sample",
    };
    format!(
        "{reference}, mean {:?}, std {:?}",
        h.mean.as_slice(),
        h.std.as_slice()
    )
}

/// `inputs→outputs activation` per layer, or `none`.
fn layers(ls: &[Layer]) -> String {
    if ls.is_empty() {
        return "none".into();
    }
    ls.iter()
        .map(|l| {
            let a = match l.activation {
                Activation::Identity => "",
                Activation::Tanh => " tanh",
                Activation::Relu => " relu",
            };
            format!("{}→{}{a}", l.inputs, l.outputs)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The integrator and, for NAG, its settings.
fn solver(sv: &SolverSpec) -> String {
    match sv.kind {
        SolverKind::Euler => "Euler".to_string(),
        SolverKind::Midpoint => "explicit midpoint".to_string(),
        SolverKind::Rk4 => "classic RK4".to_string(),
        SolverKind::Nag => format!(
            "NAG, mu {}, {}, start-up {}",
            sv.mu,
            if sv.consistency_scaling {
                "consistency scaling h = (1-mu)H"
            } else {
                "no consistency scaling"
            },
            match sv.startup {
                Startup::ZeroVelocity => "zero velocity",
                Startup::Euler => "Euler step",
            }
        ),
    }
}

/// Weights, evaluations per prediction and the type that runs the file
/// with exactly the capacities it needs (to paste into a firmware, or
/// what `nagode::codegen` generates).
fn costs(model: &Model<'_>, bytes: &[u8]) -> String {
    let weights = model.weight_bytes().len() / 4;
    let c = Capacities::of(bytes).unwrap_or_else(|_| model.capacities());
    format!(
        "weights     {weights} f32 ({} bytes)\n\
         cost        {} field evaluations per prediction (regular gaps)\n\
         type        {c} (STATE {}, WINDOW {}, DIM {}); {} outputs\n",
        weights * 4,
        model.evals_per_prediction(),
        c.state,
        c.window,
        c.dim,
        c.outputs
    )
}

#[cfg(test)]
mod tests {
    use super::super::files::fixtures;
    use super::*;

    /// A patched model says so, with its channels and the samples its
    /// window covers; the default forecaster has no patch line.
    #[test]
    fn a_patched_model_names_its_patch() {
        let f = fixtures::equal();
        let bytes = std::fs::read(&f.model).expect("model");
        let model = Model::from_bytes(&bytes).expect("loads");
        let s = describe(&f.model, &bytes, &model);
        assert!(
            s.contains("\npatch       3 samples per input (channels a@0..b@2): the data's a, b")
                && s.contains("the window of 4 patches covers 12 samples"),
            "{s}"
        );
        let setup = crate::studies::bench::InferenceSetup::default_model().expect("set-up");
        let plain = Model::from_bytes(&setup.bytes).expect("loads");
        let s = describe(std::path::Path::new("d.nagode"), &setup.bytes, &plain);
        assert!(!s.contains("\npatch"), "{s}");
        let c = plain.capacities();
        let line = format!(
            "\ntype        nagode::Session<'_, {}, {}, {}> (STATE {0}, WINDOW {1}, DIM {2}); {} outputs\n",
            c.state, c.window, c.dim, c.outputs
        );
        assert!(s.contains(&line), "{s}");
    }
}
