//! Where samples come from: a `SampleSource` trait any sensor can implement,
//! an adapter for any embedded-hal 1.0 I²C sensor, and the replay source the
//! QEMU build uses (with the irregular gaps of [`gaps`]).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

/// The replay's gap schedule, a file of its own so the host tests
/// `include!` the very same schedule.
pub mod gaps;

/// A sensor that yields one sample (all channels) per call.
pub trait SampleSource {
    /// What can go wrong reading it.
    type Error;
    /// Fills `out` (one value per channel) with the next sample and returns
    /// the time since the previous one, in the model's user units
    /// (`Model::nominal_gap` for regular sampling); `None`
    /// when the source has ended (a recording).
    fn read(&mut self, out: &mut [f32]) -> Result<Option<f32>, Self::Error>;
}

/// Reads `channels` consecutive 16-bit big-endian signed registers from an
/// I²C sensor (`address`, first register `register`) every `period_ns`,
/// scaling each raw value by `scale`. On a board, the HAL's I²C and delay
/// go in; the firmware stays the same (the QEMU build replays instead).
pub struct I2cSensor<I, D> {
    /// The bus.
    pub i2c: I,
    /// The sampling clock.
    pub delay: D,
    /// 7-bit device address.
    pub address: u8,
    /// First data register.
    pub register: u8,
    /// Units per raw count.
    pub scale: f32,
    /// Sampling period in nanoseconds.
    pub period_ns: u32,
    /// The period in the model's user units (the gap each sample reports;
    /// `Model::nominal_gap` when sampling like the training data).
    pub gap: f32,
}

/// What can go wrong reading an [`I2cSensor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum I2cSensorError<E> {
    /// The bus reported an error.
    Bus(E),
    /// More channels were asked for than a model can have
    /// (`nagode::format::MAX_CHANNELS`); nothing was read.
    TooManyChannels {
        /// Values asked for.
        asked: usize,
        /// The most a sample can hold.
        max: usize,
    },
}

impl<E: core::fmt::Debug> core::fmt::Display for I2cSensorError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            I2cSensorError::Bus(e) => write!(f, "I2C bus error: {e:?}"),
            I2cSensorError::TooManyChannels { asked, max } => {
                write!(f, "{asked} channels asked for, at most {max}")
            }
        }
    }
}

impl<I: I2c, D: DelayNs> SampleSource for I2cSensor<I, D> {
    type Error = I2cSensorError<I::Error>;

    fn read(&mut self, out: &mut [f32]) -> Result<Option<f32>, Self::Error> {
        const MAX: usize = nagode::format::MAX_CHANNELS;
        let mut raw = [[0u8; 2]; MAX];
        let raw = raw
            .get_mut(..out.len())
            .ok_or(I2cSensorError::TooManyChannels {
                asked: out.len(),
                max: MAX,
            })?;
        self.delay.delay_ns(self.period_ns);
        self.i2c
            .write_read(self.address, &[self.register], raw.as_flattened_mut())
            .map_err(I2cSensorError::Bus)?;
        for (value, bytes) in out.iter_mut().zip(raw.iter()) {
            *value = f32::from(i16::from_be_bytes(*bytes)) * self.scale;
        }
        Ok(Some(self.gap))
    }
}

/// A recorded series in flash (little-endian f32, one channel), replayed at
/// the irregular gaps of [`gaps::replay_gap`] around a nominal gap: what the
/// firmware feeds the model under QEMU.
pub struct Replay<D> {
    samples: &'static [u8],
    at: usize,
    gap: f32,
    period_ns: u32,
    delay: D,
}

impl<D: DelayNs> Replay<D> {
    /// Replays `samples` around the nominal gap `gap` ([`gaps::replay_gap`]),
    /// pausing `period_ns` per sample.
    pub fn new(samples: &'static [u8], gap: f32, period_ns: u32, delay: D) -> Self {
        Self {
            samples,
            at: 0,
            gap,
            period_ns,
            delay,
        }
    }
}

/// A replay cannot fail.
#[derive(Debug)]
pub enum Never {}

impl<D: DelayNs> SampleSource for Replay<D> {
    type Error = Never;

    fn read(&mut self, out: &mut [f32]) -> Result<Option<f32>, Never> {
        let (chunks, _) = self.samples.as_chunks::<4>();
        let Some(bytes) = chunks.get(self.at) else {
            return Ok(None);
        };
        self.delay.delay_ns(self.period_ns);
        let value = f32::from_le_bytes(*bytes);
        out.iter_mut().for_each(|o| *o = value);
        let gap = gaps::replay_gap(self.gap, self.at, chunks.len());
        self.at += 1;
        Ok(Some(gap))
    }
}

/// Virtual time for the replay: QEMU needs no real pause between samples,
/// so this only adds up the time the application asked to wait.
#[derive(Default)]
pub struct ReplayClock {
    /// Nanoseconds waited so far.
    pub waited_ns: u64,
}

impl DelayNs for ReplayClock {
    fn delay_ns(&mut self, ns: u32) {
        self.waited_ns += u64::from(ns);
    }
}
