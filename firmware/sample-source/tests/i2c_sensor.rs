//! `I2cSensor` against a mocked embedded-hal 1.0 bus: the bytes it sends,
//! how it decodes the bytes it gets, and what it does on a bus error.

use embedded_hal::i2c::ErrorKind;
use embedded_hal_mock::eh1::delay::{CheckedDelay, Transaction as Delay};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use sample_source::{I2cSensor, I2cSensorError, SampleSource};

const ADDRESS: u8 = 0x68;
const REGISTER: u8 = 0x3b;
const PERIOD_NS: u32 = 2_777_778;
const GAP: f32 = 1.0 / 360.0;

fn sensor(bus: &[I2c], delays: usize) -> I2cSensor<I2cMock, CheckedDelay> {
    I2cSensor {
        i2c: I2cMock::new(bus),
        delay: CheckedDelay::new(&vec![Delay::delay_ns(PERIOD_NS); delays]),
        address: ADDRESS,
        register: REGISTER,
        scale: 0.5,
        period_ns: PERIOD_NS,
        gap: GAP,
    }
}

/// Each read waits one period, then reads all channels in one write-read
/// from the first register, decoding big-endian signed 16-bit counts.
#[test]
fn reads_each_sample_in_one_write_read_and_decodes_big_endian_i16() {
    let bus = [
        // 1, -1, 32767, -32768 counts.
        I2c::write_read(
            ADDRESS,
            vec![REGISTER],
            vec![0x00, 0x01, 0xff, 0xff, 0x7f, 0xff, 0x80, 0x00],
        ),
        // 256, -256, 0, 4660 counts.
        I2c::write_read(
            ADDRESS,
            vec![REGISTER],
            vec![0x01, 0x00, 0xff, 0x00, 0x00, 0x00, 0x12, 0x34],
        ),
    ];
    let mut sensor = sensor(&bus, 2);
    let mut out = [f32::NAN; 4];

    assert_eq!(sensor.read(&mut out), Ok(Some(GAP)));
    assert_eq!(out, [0.5, -0.5, 16383.5, -16384.0]);
    assert_eq!(sensor.read(&mut out), Ok(Some(GAP)));
    assert_eq!(out, [128.0, -128.0, 0.0, 2330.0]);

    sensor.i2c.done();
    sensor.delay.done();
}

/// A single-channel sensor reads exactly two bytes.
#[test]
fn reads_two_bytes_per_channel() {
    let bus = [I2c::write_read(ADDRESS, vec![REGISTER], vec![0xfc, 0x18])];
    let mut sensor = sensor(&bus, 1);
    let mut out = [0.0f32; 1];

    assert_eq!(sensor.read(&mut out), Ok(Some(GAP)));
    assert_eq!(out, [-500.0]);

    sensor.i2c.done();
    sensor.delay.done();
}

/// A bus error is returned to the caller (the app stops with
/// `AppError::Source`), the sample is left as it was, and the next read
/// works again.
#[test]
fn a_bus_error_is_reported_and_leaves_the_sample_untouched() {
    let bus = [
        I2c::write_read(ADDRESS, vec![REGISTER], vec![0, 0, 0, 0]).with_error(
            ErrorKind::NoAcknowledge(embedded_hal::i2c::NoAcknowledgeSource::Address),
        ),
        I2c::write_read(ADDRESS, vec![REGISTER], vec![0x00, 0x02, 0x00, 0x04]),
    ];
    let mut sensor = sensor(&bus, 2);
    let mut out = [7.0f32; 2];

    assert_eq!(
        sensor.read(&mut out),
        Err(I2cSensorError::Bus(ErrorKind::NoAcknowledge(
            embedded_hal::i2c::NoAcknowledgeSource::Address
        )))
    );
    assert_eq!(out, [7.0, 7.0]);
    assert_eq!(sensor.read(&mut out), Ok(Some(GAP)));
    assert_eq!(out, [1.0, 2.0]);

    sensor.i2c.done();
    sensor.delay.done();
}

/// More channels than a model can have: an error, and no bus traffic or
/// wait (it used to read nothing and return `Ok`).
#[test]
fn too_many_channels_is_an_error_not_a_silent_empty_read() {
    let mut sensor = sensor(&[], 0);
    let mut out = [7.0f32; nagode::format::MAX_CHANNELS + 1];
    assert_eq!(
        sensor.read(&mut out),
        Err(I2cSensorError::TooManyChannels {
            asked: nagode::format::MAX_CHANNELS + 1,
            max: nagode::format::MAX_CHANNELS
        })
    );
    assert!(out.iter().all(|&v| v == 7.0));
    sensor.i2c.done();
    sensor.delay.done();
}
