//! The macros that put a model in a firmware: the file, 4-aligned, and the
//! code `nagode::codegen` generated from it.

/// The bytes of the file at `path` (as `include_bytes!`: relative to the
/// file that calls it) as a `&'static [u8]` that starts on a 4-byte
/// boundary, so [`crate::Model::from_bytes`] reads a format-3 (or later)
/// file's weights in place as `f32`s instead of byte by byte.
///
/// ```ignore
/// static MODEL: &[u8] = nagode::include_model!("../model.nagode");
/// ```
#[macro_export]
macro_rules! include_model {
    ($path:expr) => {{
        #[repr(C, align(4))]
        struct Aligned<T: ?Sized>(T);
        static ALIGNED: &Aligned<[u8]> = &Aligned(*include_bytes!($path));
        &ALIGNED.0
    }};
}

/// Declares a module holding what `nagode::codegen::Build::run` wrote in
/// the build script's `OUT_DIR`: the model's capacities, its session type,
/// its file (`FILE`) and its compiled layers (`NET`, `Compiled`). Items the
/// firmware does not use cost no flash.
///
/// ```ignore
/// nagode::include_generated!(mod model);
/// let mut session = model::Session::with_layers(model::Compiled)?;
/// ```
#[macro_export]
macro_rules! include_generated {
    ($vis:vis mod $name:ident) => {
        /// The model, as `nagode::codegen` generated it from its file.
        #[allow(dead_code)]
        $vis mod $name {
            // The name is `nagode::codegen::RUST_FILE`.
            include!(concat!(env!("OUT_DIR"), "/nagode_model.rs"));
        }
    };
}
