//! Numbers as text without `core::fmt`: a device prints predictions and
//! figures through [`Print`], implementing only [`Print::bytes`] for its
//! output (semihosting, a UART, RTT).
//!
//! Why: `core::fmt`'s float formatting costs about 12 kB of flash on a
//! Cortex-M4F, more than a small model's whole inference path. Here an `f32` is printed as the 8 hex digits of its bit pattern
//! ([`Print::f32_bits`], exact: a host parses it back with
//! `u32::from_str_radix(hex, 16)` and `f32::from_bits`) or with four
//! decimals for people ([`Print::fixed`]). No method indexes, divides by a
//! variable or can panic, so none links `core::fmt` in through a panic
//! message.
//!
//! ```
//! use nagode::text::Print;
//!
//! /// Collects the text (a device would write to its UART instead).
//! struct Line([u8; 32], usize);
//!
//! impl Print for Line {
//!     fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
//!         for &b in bytes {
//!             if let Some(slot) = self.0.get_mut(self.1) {
//!                 *slot = b;
//!                 self.1 += 1;
//!             }
//!         }
//!         self
//!     }
//! }
//!
//! let mut line = Line([0; 32], 0);
//! line.str("PRED ").dec(47).str(" ").f32_bits(-0.5).str(" ").fixed(-0.5);
//! assert_eq!(&line.0[..line.1], b"PRED 47 bf000000 -0.5000");
//! ```

/// Text output: implement [`Print::bytes`]; every other method writes
/// through it and returns `self`, so calls chain.
pub trait Print {
    /// Writes raw bytes (the implementation decides what a failed write
    /// does: a device usually drops the text).
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self;

    /// Writes a string.
    fn str(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    /// Writes `value` in decimal, without leading zeros.
    fn dec(&mut self, value: u32) -> &mut Self {
        let mut digits = [b'0'; 10];
        let mut rest = value;
        let mut len = 0;
        // Fills from the right; no indexing, so no bounds-check panic path.
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
            len += 1;
            if rest == 0 {
                break;
            }
        }
        let start = digits.len() - len;
        self.bytes(digits.get(start..).unwrap_or(&digits))
    }

    /// Writes `value` as 8 lower-case hex digits (leading zeros kept).
    fn hex(&mut self, value: u32) -> &mut Self {
        let mut digits = [0u8; 8];
        for (i, d) in digits.iter_mut().enumerate() {
            let nibble = ((value >> (28 - 4 * i)) & 0xf) as u8;
            *d = if nibble < 10 {
                b'0' + nibble
            } else {
                b'a' + nibble - 10
            };
        }
        self.bytes(&digits)
    }

    /// Writes the bit pattern of `value` as [`Print::hex`] does: exact,
    /// NaN payloads and the sign of zero included.
    fn f32_bits(&mut self, value: f32) -> &mut Self {
        self.hex(value.to_bits())
    }

    /// Writes `value` with 4 decimals for people, rounded half up (`nan`,
    /// `inf`, `-inf`, and `big` from 400000 on); the exact value is
    /// [`Print::f32_bits`]'s. The digits come from `value * 10000` in
    /// `f32`: from 1677.7216 on (2^24 ten-thousandths) its last digits are
    /// that product's rounding.
    fn fixed(&mut self, value: f32) -> &mut Self {
        if value.is_nan() {
            return self.str("nan");
        }
        let magnitude = if value < 0.0 {
            self.str("-");
            -value
        } else {
            value
        };
        if magnitude.is_infinite() {
            return self.str("inf");
        }
        if magnitude >= 400_000.0 {
            return self.str("big");
        }
        // < 4e9 after scaling, so the conversion cannot saturate.
        let scaled = (magnitude * 10_000.0 + 0.5) as u32;
        self.dec(scaled / 10_000).str(".");
        let frac = scaled % 10_000;
        let digits = [frac / 1000, frac / 100 % 10, frac / 10 % 10, frac % 10];
        self.bytes(&digits.map(|d| b'0' + d as u8))
    }

    /// Ends a line (`\n`).
    fn nl(&mut self) -> &mut Self {
        self.bytes(b"\n")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::Print;
    use proptest::prelude::*;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    #[derive(Default)]
    struct Text(Vec<u8>);

    impl Print for Text {
        fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
            self.0.extend_from_slice(bytes);
            self
        }
    }

    fn text(write: impl FnOnce(&mut Text) -> &mut Text) -> String {
        let mut out = Text::default();
        write(&mut out);
        String::from_utf8(out.0).expect("ASCII")
    }

    #[test]
    fn decimal_and_hex_at_the_edges() {
        assert_eq!(text(|t| t.dec(0)), "0");
        assert_eq!(text(|t| t.dec(10)), "10");
        assert_eq!(text(|t| t.dec(u32::MAX)), "4294967295");
        assert_eq!(text(|t| t.hex(0)), "00000000");
        assert_eq!(text(|t| t.hex(0xdead_beef)), "deadbeef");
        assert_eq!(text(|t| t.hex(u32::MAX)), "ffffffff");
    }

    #[test]
    fn f32_bits_keep_what_decimals_lose() {
        assert_eq!(text(|t| t.f32_bits(-0.0)), "80000000");
        assert_eq!(text(|t| t.f32_bits(f32::NAN)), "7fc00000");
        assert_eq!(text(|t| t.f32_bits(f32::MIN_POSITIVE / 2.0)), "00400000");
        assert_eq!(text(|t| t.f32_bits(1.0)), "3f800000");
    }

    #[test]
    fn fixed_rounds_to_four_decimals_and_names_what_does_not_fit() {
        assert_eq!(text(|t| t.fixed(0.0)), "0.0000");
        assert_eq!(text(|t| t.fixed(-0.36703)), "-0.3670");
        assert_eq!(text(|t| t.fixed(0.00005)), "0.0001");
        assert_eq!(text(|t| t.fixed(12.5)), "12.5000");
        // 399999.90625 * 10000 rounds to a multiple of 256 in f32.
        assert_eq!(text(|t| t.fixed(399_999.9)), "399999.8976");
        assert_eq!(text(|t| t.fixed(400_000.0)), "big");
        assert_eq!(text(|t| t.fixed(f32::NEG_INFINITY)), "-inf");
        assert_eq!(text(|t| t.fixed(f32::NAN)), "nan");
    }

    #[test]
    fn calls_chain_into_one_line() {
        let line = text(|t| t.str("PRED ").dec(7).str(" ").f32_bits(2.0).nl());
        assert_eq!(line, "PRED 7 40000000\n");
    }

    proptest! {
        #[test]
        fn integers_read_as_core_fmt_writes_them(value in any::<u32>()) {
            prop_assert_eq!(text(|t| t.dec(value)), format!("{value}"));
            prop_assert_eq!(text(|t| t.hex(value)), format!("{value:08x}"));
        }

        #[test]
        fn f32_bits_round_trip(bits in any::<u32>()) {
            let hex = text(|t| t.f32_bits(f32::from_bits(bits)));
            prop_assert_eq!(u32::from_str_radix(&hex, 16), Ok(bits));
        }

        #[test]
        fn fixed_is_within_half_a_unit_of_the_fourth_decimal(value in -1000.0f32..1000.0) {
            let printed: f64 = text(|t| t.fixed(value)).parse().expect("a number");
            // Half a unit, plus the f32 scaling's own rounding.
            prop_assert!((printed - f64::from(value)).abs() <= 0.5e-4 + 1e-4);
        }
    }
}
