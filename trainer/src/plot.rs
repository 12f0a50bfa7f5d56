//! PNG plots with plotters' bitmap backend. Text uses the DejaVu Sans font
//! compiled into the binary (plotters' `ab_glyph` feature), so no system font
//! library (fontconfig) is needed on the machine that runs the trainer.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("{file}: cannot draw plot: {message}")]
pub struct PlotError {
    /// The PNG.
    pub file: String,
    /// What plotters said.
    pub message: String,
}

fn font() {
    REGISTER.call_once(|| {
        // Registration only fails on an invalid font file, which is compiled in.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One line of a chart.
pub struct Line<'a> {
    /// Legend text.
    pub label: &'a str,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

/// The finite points' x and (transformed) y ranges; the unit square when
/// there are none, a unit x range when x does not vary.
fn bounds<'p>(
    points: impl Iterator<Item = &'p (f64, f64)>,
    tf: impl Fn(f64) -> f64,
) -> (f64, f64, f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(tf(y));
        y1 = y1.max(tf(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    (x0, x1, y0, y1)
}

/// Draws `lines` into a PNG at `path`; `log_y` plots log10 of y.
pub fn lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line<'_>],
    log_y: bool,
) -> Result<(), PlotError> {
    font();
    let err = |e: &dyn std::fmt::Display| PlotError {
        file: path.display().to_string(),
        message: e.to_string(),
    };
    let tf = |y: f64| if log_y { y.max(1e-12).log10() } else { y };
    let pts = || {
        lines
            .iter()
            .flat_map(|l| l.points.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    };
    let (x0, x1, y0, y1) = bounds(pts(), tf);
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    let root = BitMapBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(|e| err(&e))?;
    let y_desc = if log_y {
        format!("log10 {y_label}")
    } else {
        y_label.to_string()
    };
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_desc)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;
    for (k, l) in lines.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let data: Vec<(f64, f64)> = l
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&(x, y)| (x, tf(y)))
            .collect();
        chart
            .draw_series(LineSeries::new(data, colour.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(l.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
