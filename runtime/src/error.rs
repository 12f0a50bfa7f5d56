//! The three error enums: loading a model, running it, encoding one.
//!
//! Every message names what was wrong and with which numbers, so a user
//! reading a log line from a device can tell a truncated file from a model
//! that does not fit the session.

use core::fmt;

/// Which block of the model a layer belongs to.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// Per-sample encoder, `channels -> E`.
    Encoder,
    /// Vector field, `state_dim + E -> state_dim`.
    Field,
    /// Decoder, `state_dim -> outputs`.
    Decoder,
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Block::Encoder => "encoder",
            Block::Field => "field",
            Block::Decoder => "decoder",
        })
    }
}

/// Which name list of a model a name belongs to.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameList {
    /// One name per input channel.
    Channels,
    /// One name per class of a classifier.
    Classes,
}

impl NameList {
    /// What the list names, in the plural.
    fn plural(self) -> &'static str {
        match self {
            NameList::Channels => "channels",
            NameList::Classes => "classes",
        }
    }
}

impl fmt::Display for NameList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameList::Channels => "channel",
            NameList::Classes => "class",
        })
    }
}

/// Why a model file (or a header handed to the encoder) was refused.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LoadError {
    /// The file is shorter than the smallest possible model file.
    TooShort {
        /// Bytes given.
        len: usize,
        /// Fewest bytes a model file can have.
        min: usize,
    },
    /// The first four bytes are not `NAGO`.
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The CRC-32 stored at the end does not match the contents.
    CrcMismatch {
        /// CRC stored in the file.
        stored: u32,
        /// CRC computed over the file.
        computed: u32,
    },
    /// Written by a newer nagode than this one.
    NewerVersion {
        /// Version in the file.
        found: u16,
        /// Newest version this build reads.
        supported: u16,
    },
    /// A version this build does not read (older than any released one).
    UnsupportedVersion {
        /// Version in the file.
        found: u16,
    },
    /// The header could not be decoded.
    Decode(postcard::Error),
    /// Bytes left between the end of the message and the CRC.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A size computation from the header's dimensions overflows.
    SizeOverflow,
    /// The layer shapes need a different number of weight bytes than stored.
    WeightBytes {
        /// Bytes the shapes need (`4 *` weight count).
        expected: usize,
        /// Bytes stored.
        found: usize,
    },
    /// A dimension that must be at least 1 is 0.
    ZeroDimension {
        /// Which one.
        what: &'static str,
    },
    /// The per-channel normalisation has the wrong length.
    NormalisationLength {
        /// `"mean"` or `"std"`.
        what: &'static str,
        /// Channels in the model.
        expected: usize,
        /// Entries stored.
        found: usize,
    },
    /// A layer's input width does not match what feeds it.
    LayerInputs {
        /// Block of the layer.
        block: Block,
        /// Index of the layer in its block, from 0.
        layer: usize,
        /// Width fed to it.
        expected: usize,
        /// Width it declares.
        found: usize,
    },
    /// A block's output width is wrong (field must give `state_dim`, decoder the task's outputs).
    BlockOutputs {
        /// The block.
        block: Block,
        /// Width required.
        expected: usize,
        /// Width it produces.
        found: usize,
    },
    /// The vector field has no layer.
    EmptyField,
    /// A weight or bias is NaN or infinite.
    NonFiniteWeight {
        /// Block of the layer.
        block: Block,
        /// Index of the layer in its block, from 0.
        layer: usize,
        /// Index of the value within the layer (weights row-major, then biases).
        index: usize,
    },
    /// A normalisation mean is not finite, or a std is not finite and positive.
    BadNormalisation {
        /// The channel.
        channel: usize,
    },
    /// A solver or time parameter is out of range.
    BadParameter {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: f32,
        /// The range it must lie in.
        range: &'static str,
    },
    /// A size is above the format's limit.
    Limit {
        /// Which size.
        what: &'static str,
        /// Its value.
        value: usize,
        /// The limit.
        limit: usize,
    },
    /// A name list is neither empty nor one name per channel (or class).
    NameCount {
        /// Which list.
        list: NameList,
        /// Names it must have when not empty (0 for a forecaster's classes).
        expected: usize,
        /// Names it has.
        found: usize,
    },
    /// A name is empty, too long or holds a control character.
    BadName {
        /// Which list.
        list: NameList,
        /// Index of the name in its list, from 0.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two names of one list are the same.
    DuplicateName {
        /// Which list.
        list: NameList,
        /// Index of the repeated name.
        index: usize,
        /// Index of its first occurrence.
        first: usize,
    },
    /// The quantised section (format 4) does not fit the model, or could
    /// overflow an integer accumulator (`quant::section::layers`).
    BadQuant {
        /// Block of the offending layer.
        block: Block,
        /// Its index in the block.
        layer: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A session's capacity is smaller than the model needs.
    Capacity {
        /// Which capacity (`"STATE"`, `"WINDOW"` or `"DIM"`).
        what: &'static str,
        /// The capacity compiled into the session.
        capacity: usize,
        /// What the model needs.
        need: usize,
    },
    /// The model's kind does not fit its use: a window model given to a
    /// [`crate::stream::Stream`], or a streaming model whose inputs are
    /// measured from a per-window reference (a stream has no window).
    WrongKind {
        /// What is wrong.
        reason: &'static str,
    },
}

impl LoadError {
    /// `Ok` when a buffer capacity (`"STATE"`, `"WINDOW"`, `"DIM"`) holds
    /// what the model needs, else [`LoadError::Capacity`].
    pub(crate) fn fits(what: &'static str, capacity: usize, need: usize) -> Result<(), Self> {
        if capacity < need {
            Err(LoadError::Capacity {
                what,
                capacity,
                need,
            })
        } else {
            Ok(())
        }
    }

    /// The variant's name, for a log line that must not pull in `Display`'s
    /// float formatting (about 20 kB on a Cortex-M). Exhaustive, so a new
    /// variant does not compile until it is named here.
    pub fn name(&self) -> &'static str {
        match self {
            LoadError::TooShort { .. } => "TooShort",
            LoadError::BadMagic { .. } => "BadMagic",
            LoadError::CrcMismatch { .. } => "CrcMismatch",
            LoadError::NewerVersion { .. } => "NewerVersion",
            LoadError::UnsupportedVersion { .. } => "UnsupportedVersion",
            LoadError::Decode(_) => "Decode",
            LoadError::TrailingBytes { .. } => "TrailingBytes",
            LoadError::SizeOverflow => "SizeOverflow",
            LoadError::WeightBytes { .. } => "WeightBytes",
            LoadError::ZeroDimension { .. } => "ZeroDimension",
            LoadError::NormalisationLength { .. } => "NormalisationLength",
            LoadError::LayerInputs { .. } => "LayerInputs",
            LoadError::BlockOutputs { .. } => "BlockOutputs",
            LoadError::EmptyField => "EmptyField",
            LoadError::NonFiniteWeight { .. } => "NonFiniteWeight",
            LoadError::BadNormalisation { .. } => "BadNormalisation",
            LoadError::BadParameter { .. } => "BadParameter",
            LoadError::Limit { .. } => "Limit",
            LoadError::NameCount { .. } => "NameCount",
            LoadError::BadName { .. } => "BadName",
            LoadError::DuplicateName { .. } => "DuplicateName",
            LoadError::BadQuant { .. } => "BadQuant",
            LoadError::Capacity { .. } => "Capacity",
            LoadError::WrongKind { .. } => "WrongKind",
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One writer per stage of the loader's checks, each `None` for the
        // variants of the others; a variant none writes is at least named.
        self.file_message(f)
            .or_else(|| self.layer_message(f))
            .or_else(|| self.value_message(f))
            .unwrap_or_else(|| f.write_str(self.name()))
    }
}

impl LoadError {
    /// The file as a whole: length, magic, CRC, version, decode.
    fn file_message(&self, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            LoadError::TooShort { len, min } => {
                write!(f, "model file too short: {len} bytes, need at least {min}")
            }
            LoadError::BadMagic { found } => write!(
                f,
                "bad magic {found:02x?}: not a nagode model file (expected \"NAGO\")"
            ),
            LoadError::CrcMismatch { stored, computed } => write!(
                f,
                "CRC mismatch: file says {stored:#010x}, contents give {computed:#010x} (corrupted or truncated file)"
            ),
            LoadError::NewerVersion { found, supported } => write!(
                f,
                "format version {found} is newer than supported {supported}"
            ),
            LoadError::UnsupportedVersion { found } => {
                write!(f, "format version {found} is not supported")
            }
            LoadError::Decode(e) => write!(f, "cannot decode the model header or names: {e}"),
            LoadError::TrailingBytes { count } => {
                write!(f, "{count} unexpected bytes after the model data")
            }
            _ => return None,
        })
    }

    /// The layers against the weights: sizes, chaining, finite values.
    fn layer_message(&self, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            LoadError::SizeOverflow => {
                f.write_str("layer dimensions are too large: weight count overflows")
            }
            LoadError::WeightBytes { expected, found } => write!(
                f,
                "layer shapes need {expected} weight bytes but the file holds {found}"
            ),
            LoadError::ZeroDimension { what } => write!(f, "{what} is 0; it must be at least 1"),
            LoadError::NormalisationLength {
                what,
                expected,
                found,
            } => write!(
                f,
                "normalisation {what} has {found} entries for {expected} channels"
            ),
            LoadError::LayerInputs {
                block,
                layer,
                expected,
                found,
            } => write!(
                f,
                "{block} layer {layer} expects {found} inputs but gets {expected}"
            ),
            LoadError::BlockOutputs {
                block,
                expected,
                found,
            } => write!(f, "{block} outputs {found} values, must output {expected}"),
            LoadError::EmptyField => f.write_str("the vector field has no layer"),
            LoadError::NonFiniteWeight {
                block,
                layer,
                index,
            } => write!(f, "{block} layer {layer} value {index} is NaN or infinite"),
            _ => return None,
        })
    }

    /// The values and names of a well-shaped model, and what a use of it needs.
    fn value_message(&self, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            LoadError::BadNormalisation { channel } => write!(
                f,
                "channel {channel}: normalisation mean must be finite and std finite and > 0"
            ),
            LoadError::BadParameter { what, value, range } => {
                write!(f, "{what} = {value} is out of range (must be {range})")
            }
            LoadError::Limit { what, value, limit } => {
                write!(f, "{what} = {value} is above the format limit {limit}")
            }
            LoadError::NameCount {
                list: NameList::Classes,
                expected: 0,
                found,
            } => write!(f, "a forecaster has no classes but the file names {found}"),
            LoadError::NameCount {
                list,
                expected,
                found,
            } => write!(
                f,
                "{found} {list} names for {expected} {plural} (give one per {list} or none)",
                plural = list.plural()
            ),
            LoadError::BadName {
                list,
                index,
                reason,
            } => write!(f, "{list} name {index} {reason}"),
            LoadError::DuplicateName { list, index, first } => {
                write!(f, "{list} name {index} repeats {list} name {first}")
            }
            LoadError::BadQuant { block, layer, what } => {
                write!(f, "quantised {block} layer {layer}: {what}")
            }
            LoadError::Capacity {
                what,
                capacity,
                need,
            } => write!(
                f,
                "session capacity {what} = {capacity} is smaller than the {need} the model needs"
            ),
            LoadError::WrongKind { reason } => write!(f, "wrong model kind: {reason}"),
            _ => return None,
        })
    }
}

/// Why a step, a sample or a prediction was refused. The session is left as
/// it was before the call.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RunError {
    /// A sample has the wrong number of channels.
    SampleLength {
        /// Channels of the model.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A sample value is NaN or infinite.
    NonFiniteSample {
        /// Sample index within the call (0 for `push`).
        sample: usize,
        /// Channel.
        channel: usize,
    },
    /// A time gap is NaN, infinite, zero or negative.
    BadGap {
        /// The gap.
        gap: f32,
    },
    /// The solver's longest step is NaN, infinite, zero or negative.
    BadMaxStep {
        /// The step.
        max_step: f32,
    },
    /// A gap would need more sub-steps than [`crate::solver::MAX_SUBSTEPS`].
    TooManySubsteps {
        /// The gap.
        gap: f32,
        /// Longest allowed sub-step.
        max_step: f32,
        /// The limit on sub-steps.
        limit: u32,
    },
    /// `predict` before the window is full.
    NotReady {
        /// Samples held.
        have: usize,
        /// Samples the window needs.
        need: usize,
    },
    /// A whole-window call got the wrong number of values.
    WindowLength {
        /// What was wrong (`"samples"` or `"gaps"`).
        what: &'static str,
        /// Values needed.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// The output buffer is too small.
    OutputTooSmall {
        /// Values the model writes.
        need: usize,
        /// Length of the buffer.
        found: usize,
    },
    /// The state, field and solver disagree on the dimension.
    Dimension {
        /// Length of the state slice.
        state: usize,
        /// Dimension of the vector field.
        field: usize,
        /// Solver's scratch capacity.
        capacity: usize,
    },
    /// The state left the model's bound or became NaN/infinite.
    Diverged {
        /// Sample index in the window.
        sample: usize,
        /// Sub-step within the sample's gap.
        step: u32,
        /// State component.
        component: usize,
        /// Its value.
        value: f32,
        /// The bound from the model file.
        bound: f32,
    },
    /// The decoder produced a NaN or infinite output.
    NonFiniteOutput {
        /// Index of the output.
        index: usize,
    },
    /// A stream's state diverged earlier; its state is meaningless until
    /// [`crate::stream::Stream::reset`].
    NeedsReset,
}

impl RunError {
    /// The variant's name (see [`LoadError::name`]).
    pub fn name(&self) -> &'static str {
        match self {
            RunError::SampleLength { .. } => "SampleLength",
            RunError::NonFiniteSample { .. } => "NonFiniteSample",
            RunError::BadGap { .. } => "BadGap",
            RunError::BadMaxStep { .. } => "BadMaxStep",
            RunError::TooManySubsteps { .. } => "TooManySubsteps",
            RunError::NotReady { .. } => "NotReady",
            RunError::WindowLength { .. } => "WindowLength",
            RunError::OutputTooSmall { .. } => "OutputTooSmall",
            RunError::Dimension { .. } => "Dimension",
            RunError::Diverged { .. } => "Diverged",
            RunError::NonFiniteOutput { .. } => "NonFiniteOutput",
            RunError::NeedsReset => "NeedsReset",
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::SampleLength { expected, found } => {
                write!(f, "sample has {found} values, the model has {expected} channels")
            }
            RunError::NonFiniteSample { sample, channel } => {
                write!(f, "non-finite input at sample {sample} channel {channel}")
            }
            RunError::BadGap { gap } => {
                write!(f, "time gap {gap} is not finite and positive")
            }
            RunError::BadMaxStep { max_step } => {
                write!(f, "max step {max_step} is not finite and positive")
            }
            RunError::TooManySubsteps {
                gap,
                max_step,
                limit,
            } => write!(
                f,
                "time gap {gap} needs more than {limit} sub-steps of at most {max_step}"
            ),
            RunError::NotReady { have, need } => {
                write!(f, "window not full: {have} of {need} samples")
            }
            RunError::WindowLength {
                what,
                expected,
                found,
            } => write!(f, "window needs {expected} {what}, got {found}"),
            RunError::OutputTooSmall { need, found } => {
                write!(f, "output buffer holds {found} values, the model writes {need}")
            }
            RunError::Dimension {
                state,
                field,
                capacity,
            } => write!(
                f,
                "dimension mismatch: state {state}, field {field}, solver capacity {capacity}"
            ),
            RunError::Diverged {
                sample,
                step,
                component,
                value,
                bound,
            } => write!(
                f,
                "state diverged at sample {sample} sub-step {step}: y[{component}] = {value} (bound {bound})"
            ),
            RunError::NonFiniteOutput { index } => {
                write!(f, "output {index} is NaN or infinite")
            }
            RunError::NeedsReset => write!(f, "the stream diverged: reset it first"),
        }
    }
}

/// Why a model could not be written.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The header and weights would not load: the same checks as loading.
    Invalid(LoadError),
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        found: usize,
    },
    /// postcard refused to serialise.
    Serialize(postcard::Error),
}

impl EncodeError {
    /// The variant's name (see [`LoadError::name`]).
    pub fn name(&self) -> &'static str {
        match self {
            EncodeError::Invalid(_) => "Invalid",
            EncodeError::BufferTooSmall { .. } => "BufferTooSmall",
            EncodeError::Serialize(_) => "Serialize",
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Invalid(e) => write!(f, "refusing to write an invalid model: {e}"),
            EncodeError::BufferTooSmall { need, found } => {
                write!(
                    f,
                    "output buffer holds {found} bytes, the model needs {need}"
                )
            }
            EncodeError::Serialize(e) => write!(f, "cannot serialise model: {e}"),
        }
    }
}

impl From<LoadError> for EncodeError {
    fn from(e: LoadError) -> Self {
        EncodeError::Invalid(e)
    }
}

impl core::error::Error for LoadError {}
impl core::error::Error for RunError {}
impl core::error::Error for EncodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_variant() {
        assert_eq!(LoadError::SizeOverflow.name(), "SizeOverflow");
        assert_eq!(LoadError::BadMagic { found: *b"NAGX" }.name(), "BadMagic");
        assert_eq!(
            LoadError::Decode(postcard::Error::DeserializeUnexpectedEnd).name(),
            "Decode"
        );
        assert_eq!(
            LoadError::Capacity {
                what: "STATE",
                capacity: 4,
                need: 8
            }
            .name(),
            "Capacity"
        );
        assert_eq!(RunError::BadGap { gap: 0.0 }.name(), "BadGap");
        assert_eq!(RunError::NotReady { have: 1, need: 2 }.name(), "NotReady");
        assert_eq!(
            RunError::NonFiniteOutput { index: 0 }.name(),
            "NonFiniteOutput"
        );
        assert_eq!(RunError::NeedsReset.name(), "NeedsReset");
        assert_eq!(LoadError::WrongKind { reason: "r" }.name(), "WrongKind");
        assert_eq!(EncodeError::from(LoadError::EmptyField).name(), "Invalid");
        assert_eq!(
            EncodeError::BufferTooSmall { need: 2, found: 1 }.name(),
            "BufferTooSmall"
        );
    }
}
