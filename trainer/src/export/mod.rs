//! Model file export through the runtime's own encoder, and atomic writes;
//! [`host`] runs the exported files with the runtime for parity and scoring.

pub mod host;

use crate::data::{Problem, TaskKind};
use crate::engine::params::{Dense, Field, Net};
use crate::engine::solver::SolverCfg;
use crate::engine::train::STATE_BOUND;

/// The end of a flow's interval `[0, FLOW_END]` (its one gap, written to the flow file): the base
/// density sits here. The exported file's `sample_dt`.
pub const FLOW_END: f32 = 1.0;
use nagode::format::{
    encode_flow_to_vec, encode_with_kind_to_vec, FlowMeta, Header, Layer, ModelKind, Names, Task,
    MAX_LAYERS,
};
use nagode::{EncodeError, LoadError, NameList};
use std::path::Path;

/// Why a model could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The ResNet baseline has no model-file form.
    #[error("the ResNet baseline cannot be exported (the model file holds one ODE field)")]
    Resnet,
    /// A size that does not fit the format.
    #[error("cannot export: {0}")]
    Shape(String),
    /// The runtime's encoder refused the model.
    #[error("the model file encoder refused the model: {0}")]
    Encode(String),
    /// Writing failed.
    #[error("{file}: cannot write: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
}

fn small(v: usize, what: &str) -> Result<u16, ExportError> {
    u16::try_from(v)
        .map_err(|_| ExportError::Shape(format!("{what} = {v} does not fit in 16 bits")))
}

fn layer(d: &Dense, inputs: usize) -> Result<Layer, ExportError> {
    Ok(Layer {
        inputs: small(inputs, "layer inputs")?,
        outputs: small(d.outputs(), "layer outputs")?,
        activation: d.act,
    })
}

fn heapless_layers(
    v: Vec<Layer>,
    block: &str,
) -> Result<heapless::Vec<Layer, MAX_LAYERS>, ExportError> {
    let n = v.len();
    heapless::Vec::from_slice(&v).map_err(|_| {
        ExportError::Shape(format!(
            "{block} has {n} layers, the format holds {MAX_LAYERS}"
        ))
    })
}

/// Appends a layer as `W[out][in]` row-major then `b` (the format's order)
/// from the transposed storage.
fn push_dense(out: &mut Vec<f32>, d: &Dense) {
    let (i, o) = (d.inputs(), d.outputs());
    let wt = d.wt.as_vec();
    for r in 0..o {
        out.extend((0..i).map(|k| wt[k * o + r]));
    }
    out.extend(d.b.as_vec());
}

/// Appends the field's layers (the first as `W[out][y.., e..]`, then its
/// bias) and returns their shapes; `e` is the width of the input term.
fn push_field(
    weights: &mut Vec<f32>,
    field: &Field,
    d: usize,
    e: usize,
) -> Result<Vec<Layer>, ExportError> {
    let h1 = field.first.outputs();
    let wy = field.wy.as_vec();
    let we = field.first.wt.as_vec();
    for r in 0..h1 {
        weights.extend((0..d).map(|k| wy[k * h1 + r]));
        weights.extend((0..e).map(|k| we[k * h1 + r]));
    }
    weights.extend(field.first.b.as_vec());
    let mut fl = vec![Layer {
        inputs: small(d + e, "field inputs")?,
        outputs: small(h1, "field width")?,
        activation: field.first.act,
    }];
    let mut width = h1;
    for l in &field.rest {
        fl.push(layer(l, width)?);
        push_dense(weights, l);
        width = l.outputs();
    }
    debug_assert_eq!(width, d);
    Ok(fl)
}

/// A trained flow ([`crate::tasks::density`]) as a format-5 flow file
/// (`nagode::flow`): the field `[z, t] -> D` over
/// `[0, FLOW_END]` with `solver`; the time is the one channel,
/// unscaled, and the points are taken in the units the flow was trained on.
pub fn flow_to_bytes(net: &Net, solver: &SolverCfg) -> Result<Vec<u8>, ExportError> {
    let (header, weights) = flow_header(net, solver)?;
    encode_with_kind_to_vec(&header, ModelKind::Flow, &weights, &Names::NONE)
        .map_err(|e| ExportError::Encode(e.to_string()))
}

/// [`flow_to_bytes`] with the data scaling and anomaly threshold `meta`: a
/// format-7 flow file, whose points a device passes as raw readings.
pub fn flow_with_meta_to_bytes(
    net: &Net,
    solver: &SolverCfg,
    meta: &FlowMeta,
) -> Result<Vec<u8>, ExportError> {
    let (header, weights) = flow_header(net, solver)?;
    encode_flow_to_vec(&header, &weights, &Names::NONE, meta)
        .map_err(|e| ExportError::Encode(e.to_string()))
}

/// A flow's header and flat weights (see [`flow_to_bytes`]).
fn flow_header(net: &Net, solver: &SolverCfg) -> Result<(Header, Vec<f32>), ExportError> {
    let spec = solver.spec().ok_or(ExportError::Resnet)?;
    let [field] = net.fields.as_slice() else {
        return Err(ExportError::Resnet);
    };
    let d = net.arch.state_dim;
    let mut weights = Vec::new();
    let fl = push_field(&mut weights, field, d, 1)?;
    let header = Header {
        task: Task::Forecast {
            horizon: small(d, "flow dimension")?,
        },
        channels: 1,
        window: 1,
        sample_dt: FLOW_END,
        mean: heapless::Vec::from_slice(&[0.0]).map_err(|_| ExportError::Shape("mean".into()))?,
        std: heapless::Vec::from_slice(&[1.0]).map_err(|_| ExportError::Shape("std".into()))?,
        state_dim: small(d, "flow dimension")?,
        encoder: heapless::Vec::new(),
        field: heapless_layers(fl, "field")?,
        decoder: heapless::Vec::new(),
        solver: spec,
        state_bound: STATE_BOUND,
        time_unit: 1.0,
        clock: nagode::format::Clock::Number,
        reference: nagode::normalise::Reference::Global,
    };
    Ok((header, weights))
}

/// The header and the flat weights of `net`.
pub fn to_header(
    net: &Net,
    solver: &SolverCfg,
    p: &Problem,
) -> Result<(Header, Vec<f32>), ExportError> {
    let spec = solver.spec().ok_or(ExportError::Resnet)?;
    let field = net.fields.first().ok_or(ExportError::Resnet)?;
    if net.fields.len() != 1 {
        return Err(ExportError::Resnet);
    }
    let d = net.arch.state_dim;
    let e = net.arch.enc_dim();
    let mut weights = Vec::new();
    let mut enc = Vec::new();
    let mut width = net.arch.channels;
    for l in &net.encoder {
        enc.push(layer(l, width)?);
        push_dense(&mut weights, l);
        width = l.outputs();
    }
    let fl = push_field(&mut weights, field, d, e)?;
    let mut dec = Vec::new();
    let mut width = d;
    for l in &net.decoder {
        dec.push(layer(l, width)?);
        push_dense(&mut weights, l);
        width = l.outputs();
    }
    let task = match p.task {
        TaskKind::Forecast => Task::Forecast {
            horizon: small(p.horizon, "horizon")?,
        },
        TaskKind::Classify => Task::Classify {
            classes: small(p.classes.len(), "classes")?,
        },
    };
    let header = Header {
        task,
        channels: small(p.channels(), "channels")?,
        window: small(p.window, "window")?,
        // Solver time: the nominal gap is one unit (`model_gap` of itself).
        sample_dt: nagode::solver::model_gap(p.time_unit, p.time_unit),
        mean: heapless::Vec::from_slice(&p.mean)
            .map_err(|_| ExportError::Shape("too many channels".into()))?,
        std: heapless::Vec::from_slice(&p.std)
            .map_err(|_| ExportError::Shape("too many channels".into()))?,
        state_dim: small(d, "state_dim")?,
        encoder: heapless_layers(enc, "encoder")?,
        field: heapless_layers(fl, "field")?,
        decoder: heapless_layers(dec, "decoder")?,
        solver: spec,
        state_bound: STATE_BOUND,
        time_unit: p.time_unit,
        clock: p.clock,
        reference: p.reference,
    };
    Ok((header, weights))
}

/// The model file bytes, written by the runtime's encoder.
pub fn to_bytes(net: &Net, solver: &SolverCfg, p: &Problem) -> Result<Vec<u8>, ExportError> {
    to_bytes_with_kind(net, solver, p, ModelKind::Window)
}

/// [`to_bytes`] for a model of either kind (a streaming model is written
/// as format 5, a window model as before).
pub fn to_bytes_with_kind(
    net: &Net,
    solver: &SolverCfg,
    p: &Problem,
    kind: ModelKind,
) -> Result<Vec<u8>, ExportError> {
    let (header, weights) = to_header(net, solver, p)?;
    let channels: Vec<&str> = p.channel_names.iter().map(String::as_str).collect();
    let classes: Vec<&str> = p.classes.iter().map(String::as_str).collect();
    let encode = |channels: &[&str]| {
        let names = Names {
            channels,
            classes: &classes,
        };
        encode_with_kind_to_vec(&header, kind, &weights, &names)
    };
    // Channel names only label `inspect` and `predict`: names the format
    // refuses (too long, control characters, repeated) are left out rather
    // than failing the export. Class names are the meaning of the outputs:
    // the encoder's refusal of them stands.
    match encode(&channels) {
        Err(EncodeError::Invalid(e)) if refuses_channel_names(&e) => encode(&[]),
        other => other,
    }
    .map_err(|e| ExportError::Encode(e.to_string()))
}

/// Whether the encoder refused the channel names (and nothing else yet).
fn refuses_channel_names(e: &LoadError) -> bool {
    matches!(
        e,
        LoadError::NameCount {
            list: NameList::Channels,
            ..
        } | LoadError::BadName {
            list: NameList::Channels,
            ..
        } | LoadError::DuplicateName {
            list: NameList::Channels,
            ..
        }
    )
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// synced, then renamed over the target, so a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    use std::io::Write;
    let io = |source| ExportError::Io {
        file: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Clock, Reference, TaskKind, Windows};
    use crate::engine::params::Arch;
    use crate::engine::solver::SolverChoice;

    /// A 2-channel, 2-class classifier named as given.
    fn export(channels: [&str; 2], classes: [&str; 2]) -> Result<Vec<u8>, ExportError> {
        let dev: dfdx::prelude::Cpu = Default::default();
        let arch = Arch {
            channels: 2,
            encoder: vec![],
            state_dim: 2,
            hidden: vec![3],
            decoder: vec![],
            outputs: 2,
            window: 3,
        };
        let net = Net::new(&dev, &arch, SolverChoice::Euler, 1);
        let solver = SolverCfg {
            kind: SolverChoice::Euler,
            mu: 0.0,
            consistency: true,
            startup_euler: false,
            max_step: 1.0,
            time_unit: 1.0,
        };
        let p = Problem {
            name: "names".into(),
            task: TaskKind::Classify,
            channel_names: channels.map(String::from).to_vec(),
            window: 3,
            horizon: 0,
            stride: 1,
            classes: classes.map(String::from).to_vec(),
            time_unit: 1.0,
            clock: Clock::Index,
            reference: Reference::Global,
            mean: vec![0.0, 0.0],
            std: vec![1.0, 1.0],
            notes: Vec::new(),
            patch: 1,
            resampled: None,
            train: Windows::default(),
            val: Windows::default(),
            test: Windows::default(),
        };
        to_bytes(&net, &solver, &p)
    }

    #[test]
    fn channel_names_the_format_refuses_are_left_out_class_names_are_not() {
        let bytes = export(["ax", "ay"], ["walk", "run"]).expect("exports");
        let model = nagode::Model::from_bytes(&bytes).expect("loads");
        assert_eq!(model.channel_names().collect::<Vec<_>>(), ["ax", "ay"]);
        for bad in [["ax", "ax"], ["ax", "a\ty"], ["", "ay"]] {
            let bytes = export(bad, ["walk", "run"]).expect("exports without channel names");
            let model = nagode::Model::from_bytes(&bytes).expect("loads");
            assert_eq!(model.channel_names().count(), 0, "{bad:?}");
            assert_eq!(model.class_name(1), Some("run"));
        }
        let err = export(["ax", "ay"], ["walk", "walk"]).expect_err("duplicate classes");
        assert!(err.to_string().contains("class"), "{err}");
    }
}
