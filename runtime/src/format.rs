//! How a model is stored: the model file's versions, their decoders and
//! encoders, and the CRC. What the stored model *is* (header, layers, kinds,
//! names) and the checks it must pass live in [`crate::header`]; they are
//! re-exported here, so `format::Header` and the rest keep their paths.
//!
//! A file is a postcard + serde header, borrowed name lists and borrowed
//! little-endian f32 weights, guarded by postcard's CRC-32.
//!
//! Layout of a version-3 file (every part postcard-encoded, in this order):
//!
//! | part | encoding |
//! |---|---|
//! | magic `NAGO` | 4 raw bytes |
//! | format version `3` | `u16` varint |
//! | [`Header`] | postcard struct, fields in declaration order: the version-1 fields (`task` .. `state_bound`), then `time_unit`, `clock`, `reference` |
//! | channel names | postcard `str`: varint byte count, UTF-8, names joined by `\n` (empty = none) |
//! | class names | the same, for a classifier's classes |
//! | padding | postcard byte sequence of 0–3 zero bytes, so the weights start on a 4-byte boundary of the file |
//! | weights | varint byte count, then little-endian `f32`s, in the order of [`crate::header`] |
//! | CRC-32 (ISO-HDLC) of everything before it | 4 bytes little-endian |
//!
//! A file stored at a 4-aligned address (flash sections are; see the
//! firmware's `MODEL` static) therefore has its weights 4-aligned in memory,
//! and the runtime reads them as `&[f32]` through a checked cast
//! ([`crate::field::Weights`]); anywhere else they are read byte-wise, with
//! the same results.
//!
//! Version 4 is the version-3 layout with a `quant::QuantSection`
//! (the integer model, see `quant`, feature `quant`) between the weights and the
//! CRC: input exponent, one output exponent per layer, then three byte runs
//! (row exponents `i8`, biases little-endian `i32`, weights `i8`), each in
//! weight order. The encoder writes version 4 only when it is given a
//! section (`encode_quant_to_vec`); a model without one is still written as
//! version 3, byte for byte as before, so files, fixtures and firmware images
//! of `f32` models do not change. [`Model::from_bytes`](crate::Model) reads
//! a version-4 file as its `f32` model; with the `quant` feature it checks
//! the section too (a damaged section is refused on either path), without
//! it the section, covered by the CRC, is skipped and costs no code.
//!
//! Version 5 is the version-3 layout with a [`ModelKind`] (postcard enum:
//! variant index, then a streaming model's `warmup` as a `u32` varint)
//! between the header and the channel names. It records a model whose
//! state is carried across samples ([`crate::stream`]) or a flow. The
//! encoder writes version 5 only for those ([`encode_with_kind`]); a window
//! model is still written as version 3, byte for byte as before. The kind
//! is its own part rather than a [`Header`] field, so [`Header`] keeps the
//! wire form of versions 2 to 5 (no frozen `HeaderV2` is needed) and code
//! that builds a `Header` is unaffected. A continuous normalising flow
//! ([`ModelKind::Flow`], [`crate::flow`]) is a version-5 file too (variant
//! index 2, no payload): its header already holds what the flow needs (see
//! [`crate::header`] for its fixed shape, checked on encode and load).
//!
//! Version 6 is the version-5 layout whose kind is
//! [`ModelKind::Static`] (variant index 3, no payload): a static-input
//! classifier ([`crate::classify`]; its shape in [`crate::header`]). It is
//! a version of its own so that a runtime from before it says
//! [`LoadError::NewerVersion`] instead of failing to decode the kind. A
//! version-6 file holds that kind and no other; a version-5 file never
//! holds it.
//!
//! Version 7 is a version-5 flow followed, between the weights and the CRC,
//! by its [`FlowMeta`] (postcard struct: `window` as a `u16` varint, the
//! per-channel offsets and scales as `f32` sequences, the threshold and the
//! quantile as `f32`s): the data scaling a device applies to raw readings
//! and the anomaly threshold ([`crate::flow::Flow::score`]). The encoder
//! writes it with [`encode_flow_to_vec`]; a flow without them is still
//! version 5.
//!
//! Older versions, still read:
//! * version 2: header, weights, channel names, class names (no padding);
//! * version 1: the header without `time_unit`, `clock`, `reference`, then
//!   the weights; it loads as `time_unit = 1.0`, `clock = Clock::Number`,
//!   `reference = Reference::Global`, no names (exactly what such a model
//!   computed when it was written).
//!
//! # Versions
//!
//! Any change to the wire layout (a field added, removed, reordered or
//! re-typed, in the header or around it) is a new [`FORMAT_VERSION`]. The
//! loader keeps the decode path of every older version (`decode_v1`,
//! `decode_v2`, `decode_v3`, `decode_v4`, `decode_v5` (which reads version 6 too), `decode_v7` below, each converting into the one in-memory [`Header`])
//! and the tests keep a frozen file of every version with its golden outputs
//! (`runtime/tests/fixtures`, `runtime/tests/compat.rs`), so a model on a
//! device never stops loading. A version newer than this build is refused
//! with [`LoadError::NewerVersion`]; version 0 never existed
//! ([`LoadError::UnsupportedVersion`]). When [`Header`] itself changes for a
//! later version, freeze today's layout as a private `HeaderV2` (like
//! `HeaderV1`) for `decode_v2` and `decode_v3`.
//!
//! The loader checks, in order: length, magic, CRC, version, header decode,
//! then the header's own checks ([`crate::header`]: weight bytes against the
//! layer shapes, layer chaining, finite weights, normalisation, solver/time
//! parameters, format limits, names, kind). [`encode`] runs the very same
//! checks, so the trainer cannot write a file the runtime refuses.

use crate::error::{EncodeError, LoadError};
use crate::header::{check_flow_meta, check_kind, split_names, validate, validate_names};
/// What a model is, re-exported from [`crate::header`] so every path
/// `format::X` that named it before the split still does.
pub use crate::header::{
    encoded_dim, output_len, weight_count, Activation, Clock, FlowMeta, Header, Layer, ModelKind,
    Names, SolverKind, SolverSpec, Startup, Task, MAX_CHANNELS, MAX_LAYERS, MAX_NAME_LEN,
    MAX_WIDTH, MAX_WINDOW,
};
use crate::normalise::Reference;
#[cfg(feature = "quant")]
use crate::quant::section::{check as check_section, QuantSection};
use heapless::Vec;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

/// First four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"NAGO";
/// The format version this build writes for an `f32`-only model.
pub const FORMAT_VERSION: u16 = 3;
/// The version of a file with a quantised section (`encode_quant_to_vec`).
pub const QUANT_VERSION: u16 = 4;
/// The version of a streaming model's file ([`encode_with_kind`]).
pub const STREAM_VERSION: u16 = 5;
/// The version of a static-input classifier's file ([`ModelKind::Static`]).
pub const STATIC_VERSION: u16 = 6;
/// The version of a flow with its scaling and threshold ([`encode_flow_to_vec`]).
pub const FLOW_VERSION: u16 = 7;
/// The newest version this build reads (it reads every version from 1 up).
pub const NEWEST_VERSION: u16 = FLOW_VERSION;
/// Fewest bytes of a model file: magic, version, CRC and more.
pub const MIN_FILE_LEN: usize = MAGIC.len() + 1 + 4;

/// The kind as written: nothing for a window model (versions 3 and 4, so
/// their bytes do not change), the [`ModelKind`] for version 5.
struct KindPart(Option<ModelKind>);

impl Serialize for KindPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(kind) => kind.serialize(serializer),
            // A postcard tuple of nothing writes no bytes.
            None => serde::ser::SerializeTuple::end(serializer.serialize_tuple(0)?),
        }
    }
}

/// The version-1 wire header: [`Header`] without the fields version 2 added.
/// Frozen: files of version 1 are decoded with it forever.
#[derive(Deserialize)]
struct HeaderV1 {
    task: Task,
    channels: u16,
    window: u16,
    sample_dt: f32,
    mean: Vec<f32, MAX_CHANNELS>,
    std: Vec<f32, MAX_CHANNELS>,
    state_dim: u16,
    encoder: Vec<Layer, MAX_LAYERS>,
    field: Vec<Layer, MAX_LAYERS>,
    decoder: Vec<Layer, MAX_LAYERS>,
    solver: SolverSpec,
    state_bound: f32,
}

impl From<HeaderV1> for Header {
    /// What a version-1 model computed: gaps in solver units, absolute levels.
    fn from(h: HeaderV1) -> Self {
        Header {
            task: h.task,
            channels: h.channels,
            window: h.window,
            sample_dt: h.sample_dt,
            mean: h.mean,
            std: h.std,
            state_dim: h.state_dim,
            encoder: h.encoder,
            field: h.field,
            decoder: h.decoder,
            solver: h.solver,
            state_bound: h.state_bound,
            time_unit: 1.0,
            clock: Clock::Number,
            reference: Reference::Global,
        }
    }
}

/// The CRC postcard appends: CRC-32/ISO-HDLC (the zlib/PNG one).
pub(crate) const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The same CRC without a lookup table, for the loader: a file is checked
/// once at start-up, and the 1 kB table would cost more flash than the
/// bitwise loop costs time.
const CRC_NO_TABLE: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// Reads little-endian f32s from bytes (any alignment; a short tail is ignored).
pub fn le_f32s(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .as_chunks::<4>()
        .0
        .iter()
        .map(|b| f32::from_le_bytes(*b))
}

/// Serialises f32s as postcard bytes (varint length, then little-endian
/// bytes), the same wire form a borrowed `&[u8]` decodes from.
struct LeBytes<'w>(&'w [f32]);

impl Serialize for LeBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = self.0.len().saturating_mul(4);
        let mut seq = serializer.serialize_seq(Some(len))?;
        for byte in self.0.iter().flat_map(|w| w.to_le_bytes()) {
            seq.serialize_element(&byte)?;
        }
        seq.end()
    }
}

/// Serialises a name list as the postcard `str` a borrowed `&str` decodes
/// from: varint byte count, then the names joined by `\n`. The names are
/// checked first, so none contains a newline and the join is unambiguous.
struct Joined<'n>(&'n [&'n str]);

impl Joined<'_> {
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().enumerate().flat_map(|(i, name)| {
            let sep: &[u8] = if i == 0 { b"" } else { b"\n" };
            sep.iter().chain(name.as_bytes()).copied()
        })
    }
}

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = self.bytes().count();
        let mut seq = serializer.serialize_seq(Some(len))?;
        for byte in self.bytes() {
            seq.serialize_element(&byte)?;
        }
        seq.end()
    }
}

/// Zero bytes (a postcard byte sequence) that put the weights on a 4-byte
/// boundary of the file.
struct Pad(usize);

impl Serialize for Pad {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0))?;
        for _ in 0..self.0 {
            seq.serialize_element(&0u8)?;
        }
        seq.end()
    }
}

/// Bytes of postcard's varint for `n`.
fn varint_len(n: usize) -> usize {
    let mut len = 1;
    let mut rest = n >> 7;
    while rest > 0 {
        rest >>= 7;
        len += 1;
    }
    len
}

/// The message before the padding: everything but the weights.
type Front<'h, 'n> = ([u8; 4], u16, &'h Header, KindPart, Joined<'n>, Joined<'n>);

/// The framed current-version message without the CRC.
type Message<'h, 'w, 'n> = (Front<'h, 'n>, Pad, LeBytes<'w>);

/// The message of a `kind` model: version 3 (or `window_version`, 4 for a
/// quantised file) without a kind part for a window model, version 5 with
/// it for a streaming one.
fn message<'h, 'w, 'n>(
    window_version: u16,
    kind: ModelKind,
    header: &'h Header,
    weights: &'w [f32],
    names: &Names<'n>,
) -> Result<Message<'h, 'w, 'n>, EncodeError> {
    let (version, part) = match kind {
        ModelKind::Window => (window_version, KindPart(None)),
        ModelKind::Streaming { .. } | ModelKind::Flow => (STREAM_VERSION, KindPart(Some(kind))),
        ModelKind::Static => (STATIC_VERSION, KindPart(Some(kind))),
    };
    let front = (
        MAGIC,
        version,
        header,
        part,
        Joined(names.channels),
        Joined(names.classes),
    );
    let front_len = postcard::serialize_with_flavor(&front, postcard::ser_flavors::Size::default())
        .map_err(EncodeError::Serialize)?;
    // The pad's own one-byte length, then the weights' byte count.
    let before = front_len + 1 + varint_len(weights.len().saturating_mul(4));
    Ok((front, Pad((4 - before % 4) % 4), LeBytes(weights)))
}

fn check_for_encode(
    header: &Header,
    kind: ModelKind,
    weights: &[f32],
    names: &Names<'_>,
) -> Result<(), EncodeError> {
    check_kind(header, kind)?;
    let bytes = weights
        .len()
        .checked_mul(4)
        .ok_or(LoadError::SizeOverflow)?;
    validate(header, kind, bytes, weights.iter().copied())?;
    validate_names(
        header,
        names.channels.iter().copied(),
        names.classes.iter().copied(),
    )?;
    Ok(())
}

/// Bytes [`encode`] will write for this model (after validating it).
pub fn encoded_len(
    header: &Header,
    weights: &[f32],
    names: &Names<'_>,
) -> Result<usize, EncodeError> {
    encoded_len_with_kind(header, ModelKind::Window, weights, names)
}

/// Bytes [`encode_with_kind`] will write for this model.
pub fn encoded_len_with_kind(
    header: &Header,
    kind: ModelKind,
    weights: &[f32],
    names: &Names<'_>,
) -> Result<usize, EncodeError> {
    check_for_encode(header, kind, weights, names)?;
    let len = postcard::serialize_with_flavor(
        &message(FORMAT_VERSION, kind, header, weights, names)?,
        postcard::ser_flavors::Size::default(),
    )
    .map_err(EncodeError::Serialize)?;
    len.checked_add(4)
        .ok_or(EncodeError::Invalid(LoadError::SizeOverflow))
}

/// Writes a model file of the current [`FORMAT_VERSION`] into `out`; returns
/// the bytes written. Refuses (with the loader's own error) a header,
/// weights and names that would not load.
pub fn encode(
    header: &Header,
    weights: &[f32],
    names: &Names<'_>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_with_kind(header, ModelKind::Window, weights, names, out)
}

/// [`encode`] for a model of any kind: a window model as version 3 (the
/// same bytes as [`encode`]), a streaming model or a flow as
/// [`STREAM_VERSION`], a static-input classifier as [`STATIC_VERSION`].
pub fn encode_with_kind(
    header: &Header,
    kind: ModelKind,
    weights: &[f32],
    names: &Names<'_>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let need = encoded_len_with_kind(header, kind, weights, names)?;
    if out.len() < need {
        return Err(EncodeError::BufferTooSmall {
            need,
            found: out.len(),
        });
    }
    postcard::to_slice_crc32(
        &message(FORMAT_VERSION, kind, header, weights, names)?,
        out,
        CRC.digest(),
    )
    .map(|written| written.len())
    .map_err(EncodeError::Serialize)
}

/// [`encode`] into a new `Vec`.
#[cfg(feature = "alloc")]
pub fn encode_to_vec(
    header: &Header,
    weights: &[f32],
    names: &Names<'_>,
) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    encode_with_kind_to_vec(header, ModelKind::Window, weights, names)
}

/// [`encode_with_kind`] into a new `Vec`.
#[cfg(feature = "alloc")]
pub fn encode_with_kind_to_vec(
    header: &Header,
    kind: ModelKind,
    weights: &[f32],
    names: &Names<'_>,
) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    let mut out = alloc::vec![0u8; encoded_len_with_kind(header, kind, weights, names)?];
    let len = encode_with_kind(header, kind, weights, names, &mut out)?;
    out.truncate(len);
    Ok(out)
}

/// A version-4 file: the model as [`encode_to_vec`] writes it, then its
/// quantised `section`, checked with the loader's own rules.
#[cfg(all(feature = "alloc", feature = "quant"))]
pub fn encode_quant_to_vec(
    header: &Header,
    weights: &[f32],
    names: &Names<'_>,
    section: &QuantSection<'_>,
) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    check_for_encode(header, ModelKind::Window, weights, names)?;
    check_section(header, section)?;
    crc_to_vec(&(
        message(QUANT_VERSION, ModelKind::Window, header, weights, names)?,
        section,
    ))
}

/// A version-7 file: the flow as [`encode_with_kind_to_vec`] writes it
/// (version 5), then its `meta`, checked with the loader's own rules.
#[cfg(feature = "alloc")]
pub fn encode_flow_to_vec(
    header: &Header,
    weights: &[f32],
    names: &Names<'_>,
    meta: &FlowMeta,
) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    check_for_encode(header, ModelKind::Flow, weights, names)?;
    check_flow_meta(header, meta)?;
    let (mut front, pad, weights) =
        message(FORMAT_VERSION, ModelKind::Flow, header, weights, names)?;
    // 5 and 7 are both one-byte varints: the padding stays right.
    front.1 = FLOW_VERSION;
    crc_to_vec(&((front, pad, weights), meta))
}

/// `msg` and its CRC in a new `Vec`.
#[cfg(feature = "alloc")]
fn crc_to_vec<T: Serialize>(msg: &T) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    let len = postcard::serialize_with_flavor(msg, postcard::ser_flavors::Size::default())
        .map_err(EncodeError::Serialize)?;
    let mut out = alloc::vec![0u8; len.saturating_add(4)];
    let written = postcard::to_slice_crc32(msg, &mut out, CRC.digest())
        .map_err(EncodeError::Serialize)?
        .len();
    out.truncate(written);
    Ok(out)
}

/// The window model file `bytes` written again in the current
/// [`FORMAT_VERSION`]: the same header, weights and names, so it computes
/// the same bits (and a format-1 or -2 file gets its weights aligned).
/// `bytes` pass every check of [`crate::Model::from_bytes`] first. Refused
/// rather than cut short: a version-4 file (writing it as version 3 would
/// drop its integer section) and a version-5 file, streaming or flow (its
/// kind would be lost).
///
/// It takes the file rather than a loaded [`crate::Model`] so that the
/// format, which the model is loaded with, does not depend on the model.
#[cfg(feature = "alloc")]
pub fn upgrade_to_vec(bytes: &[u8]) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    use alloc::vec::Vec;
    let file = decode(bytes)?;
    let refuse = |reason| Err(EncodeError::Invalid(LoadError::WrongKind { reason }));
    match file.version {
        QUANT_VERSION => {
            return refuse(
                "a version-4 model is not upgraded (its integer section would be dropped)",
            )
        }
        STREAM_VERSION | STATIC_VERSION | FLOW_VERSION => {
            return refuse(
                "a version-5 or -7 model (streaming or flow) or a version-6 one (static input) \
                 is not upgraded (its kind would be lost)",
            )
        }
        _ => {}
    }
    let weights: Vec<f32> = le_f32s(file.weights).collect();
    let channels: Vec<&str> = split_names(file.channel_names).collect();
    let classes: Vec<&str> = split_names(file.class_names).collect();
    let names = Names {
        channels: &channels,
        classes: &classes,
    };
    encode_to_vec(&file.header, &weights, &names)
}

/// A checked file: the header (every version converted to the current
/// one), the weight bytes and the raw name lists, all borrowed from the file.
pub(crate) struct Decoded<'a> {
    pub header: Header,
    pub weights: &'a [u8],
    /// Channel names joined by `\n` (`""` = none).
    pub channel_names: &'a str,
    /// Class names joined by `\n` (`""` = none).
    pub class_names: &'a str,
    /// The file's format version.
    pub version: u16,
}

/// Refuses anything after the message.
fn no_rest(rest: &[u8]) -> Result<(), LoadError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(LoadError::TrailingBytes { count: rest.len() })
    }
}

/// Version 1: header, weights; no names.
fn decode_v1(body: &[u8]) -> Result<Decoded<'_>, LoadError> {
    let ((_, _, header, weights), rest) =
        postcard::take_from_bytes::<([u8; 4], u16, HeaderV1, &[u8])>(body)
            .map_err(LoadError::Decode)?;
    no_rest(rest)?;
    Ok(Decoded {
        header: header.into(),
        weights,
        channel_names: "",
        class_names: "",
        version: 1,
    })
}

/// Version 2: header with time unit, clock and reference; weights; names.
fn decode_v2(body: &[u8]) -> Result<Decoded<'_>, LoadError> {
    let ((_, _, header, weights, channel_names, class_names), rest) =
        postcard::take_from_bytes::<([u8; 4], u16, Header, &[u8], &str, &str)>(body)
            .map_err(LoadError::Decode)?;
    no_rest(rest)?;
    Ok(Decoded {
        header,
        weights,
        channel_names,
        class_names,
        version: 2,
    })
}

/// Version 3: the version-2 header, names, then zero padding and the
/// weights on a 4-byte boundary of the file.
fn decode_v3(body: &[u8]) -> Result<Decoded<'_>, LoadError> {
    let (decoded, rest) = v3_layout(body, 3)?;
    no_rest(rest)?;
    Ok(decoded)
}

/// Version 4: the version-3 layout, then the quantised section (returned
/// as its raw bytes: only the `quant` feature reads it).
fn decode_v4(body: &[u8]) -> Result<(Decoded<'_>, &[u8]), LoadError> {
    v3_layout(body, 4)
}

/// The version-3 layout as `version`, and whatever follows it.
fn v3_layout(body: &[u8], version: u16) -> Result<(Decoded<'_>, &[u8]), LoadError> {
    type V3<'a> = (([u8; 4], u16, Header, &'a str, &'a str), &'a [u8], &'a [u8]);
    let (((_, _, header, channel_names, class_names), _, weights), rest) =
        postcard::take_from_bytes::<V3<'_>>(body).map_err(LoadError::Decode)?;
    let decoded = Decoded {
        header,
        weights,
        channel_names,
        class_names,
        version,
    };
    Ok((decoded, rest))
}

/// The version-5 layout: header, kind, names, padding, weights.
type V5<'a> = (
    ([u8; 4], u16, Header, ModelKind, &'a str, &'a str),
    &'a [u8],
    &'a [u8],
);

/// Version 7: the version-5 layout of a flow, then its [`FlowMeta`]
/// (checked against the header).
fn decode_v7(body: &[u8]) -> Result<(Decoded<'_>, FlowMeta), LoadError> {
    let ((((_, _, header, kind, channel_names, class_names), _, weights), meta), rest) =
        postcard::take_from_bytes::<(V5<'_>, FlowMeta)>(body).map_err(LoadError::Decode)?;
    no_rest(rest)?;
    if kind != ModelKind::Flow {
        return Err(LoadError::WrongKind {
            reason: "a version-7 file holds a flow",
        });
    }
    check_flow_meta(&header, &meta)?;
    let decoded = Decoded {
        header,
        weights,
        channel_names,
        class_names,
        version: FLOW_VERSION,
    };
    Ok((decoded, meta))
}

/// A valid flow file's [`FlowMeta`] (`None` before version 7), after every
/// check of [`crate::Model::from_bytes`].
pub fn flow_meta(bytes: &[u8]) -> Result<Option<FlowMeta>, LoadError> {
    decode_parts(bytes).map(|(_, tail, _)| match tail {
        Tail::Flow(meta) => Some(meta),
        Tail::None | Tail::Quant(_) => None,
    })
}

/// Version 5 (and 6, `version`): the version-3 layout with the model's
/// kind after the header; a static-input kind exactly in version 6.
fn decode_v5(body: &[u8], version: u16) -> Result<(Decoded<'_>, ModelKind), LoadError> {
    let (((_, _, header, kind, channel_names, class_names), _, weights), rest) =
        postcard::take_from_bytes::<V5<'_>>(body).map_err(LoadError::Decode)?;
    no_rest(rest)?;
    if (kind == ModelKind::Static) != (version == STATIC_VERSION) {
        return Err(LoadError::WrongKind {
            reason: "a static-input model is a version-6 file, and a version-6 file holds one",
        });
    }
    let decoded = Decoded {
        header,
        weights,
        channel_names,
        class_names,
        version,
    };
    Ok((decoded, kind))
}

/// The kind of a valid model file (every version before 5 is a window
/// model), after every check of [`crate::Model::from_bytes`] but the
/// quantised section's.
pub fn model_kind(bytes: &[u8]) -> Result<ModelKind, LoadError> {
    decode_parts(bytes).map(|(_, _, kind)| kind)
}

/// Decodes and validates a file of any supported version. With the `quant`
/// feature a version-4 file's section is checked too, so a damaged section
/// is refused on either path; without it the section (covered by the CRC)
/// is skipped and costs no code.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, LoadError> {
    let (decoded, tail, _) = decode_parts(bytes)?;
    #[cfg(feature = "quant")]
    if let Tail::Quant(raw) = tail {
        quant_checked(&decoded.header, raw)?;
    }
    #[cfg(not(feature = "quant"))]
    let _ = tail;
    Ok(decoded)
}

/// The quantised section of a valid file (`None` before version 4), after
/// every check of [`decode`].
#[cfg(feature = "quant")]
pub(crate) fn quant_section(bytes: &[u8]) -> Result<Option<QuantSection<'_>>, LoadError> {
    match decode_parts(bytes)? {
        (decoded, Tail::Quant(raw), _) => quant_checked(&decoded.header, raw).map(Some),
        (_, Tail::None | Tail::Flow(_), _) => Ok(None),
    }
}

/// A raw version-4 section decoded (nothing may follow it) and checked
/// against the header.
#[cfg(feature = "quant")]
fn quant_checked<'a>(header: &Header, raw: &'a [u8]) -> Result<QuantSection<'a>, LoadError> {
    let (section, rest) =
        postcard::take_from_bytes::<QuantSection<'_>>(raw).map_err(LoadError::Decode)?;
    no_rest(rest)?;
    check_section(header, &section)?;
    Ok(section)
}

/// What follows a file's weights.
enum Tail<'a> {
    /// Nothing (versions 1, 2, 3, 5 and 6).
    None,
    /// A version-4 file's quantised section, raw (read only with the
    /// `quant` feature; without it the section, covered by the CRC, is
    /// skipped).
    Quant(#[cfg_attr(not(feature = "quant"), allow(dead_code))] &'a [u8]),
    /// A version-7 flow's metadata, checked.
    Flow(FlowMeta),
}

/// A decoded file, what follows its weights and the model's kind.
type Parts<'a> = (Decoded<'a>, Tail<'a>, ModelKind);

/// Frame, CRC, version, header, kind and `f32` checks; a version-4 file's
/// section comes back raw, a version-7 file's metadata checked.
fn decode_parts(bytes: &[u8]) -> Result<Parts<'_>, LoadError> {
    if bytes.len() < MIN_FILE_LEN {
        return Err(LoadError::TooShort {
            len: bytes.len(),
            min: MIN_FILE_LEN,
        });
    }
    let (magic, _) = bytes.split_first_chunk::<4>().ok_or(LoadError::TooShort {
        len: bytes.len(),
        min: MIN_FILE_LEN,
    })?;
    if *magic != MAGIC {
        return Err(LoadError::BadMagic { found: *magic });
    }
    let (body, stored) = bytes.split_last_chunk::<4>().ok_or(LoadError::TooShort {
        len: bytes.len(),
        min: MIN_FILE_LEN,
    })?;
    let stored = u32::from_le_bytes(*stored);
    let computed = CRC_NO_TABLE.checksum(body);
    if stored != computed {
        return Err(LoadError::CrcMismatch { stored, computed });
    }
    let after_magic = body.get(MAGIC.len()..).unwrap_or_default();
    let (version, _) = postcard::take_from_bytes::<u16>(after_magic).map_err(LoadError::Decode)?;
    let window = ModelKind::Window;
    let (decoded, tail, kind) = match version {
        1 => (decode_v1(body)?, Tail::None, window),
        2 => (decode_v2(body)?, Tail::None, window),
        3 => (decode_v3(body)?, Tail::None, window),
        4 => decode_v4(body).map(|(d, q)| (d, Tail::Quant(q), window))?,
        v @ (STREAM_VERSION | STATIC_VERSION) => {
            decode_v5(body, v).map(|(d, k)| (d, Tail::None, k))?
        }
        FLOW_VERSION => decode_v7(body).map(|(d, m)| (d, Tail::Flow(m), ModelKind::Flow))?,
        v if v > NEWEST_VERSION => {
            return Err(LoadError::NewerVersion {
                found: v,
                supported: NEWEST_VERSION,
            })
        }
        v => return Err(LoadError::UnsupportedVersion { found: v }),
    };
    validate(
        &decoded.header,
        kind,
        decoded.weights.len(),
        le_f32s(decoded.weights),
    )?;
    validate_names(
        &decoded.header,
        split_names(decoded.channel_names),
        split_names(decoded.class_names),
    )?;
    check_kind(&decoded.header, kind)?;
    Ok((decoded, tail, kind))
}
