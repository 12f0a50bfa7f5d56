//! Helpers shared by the cross-crate and QEMU tests in `tests/tests/`.
