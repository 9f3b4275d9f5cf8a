//! The loss history of a training run: `history.csv` (step, training loss, validation loss)
//! and its plot, `loss.png`, both in the run's folder and both written atomically.

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, Result, bail, ensure};
use plotters::prelude::*;

use crate::fsutil::{read_regular_file, temporary_sibling, write_atomically, write_bytes_atomically};

/// One step's losses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub step: i64,
    pub train_loss: Option<f64>,
    pub validation_loss: Option<f64>,
}

/// The losses of a run, step by step.
///
/// ```
/// let mut history = tch_rnn::charlm::History::default();
/// history.record_train(1, 4.17);
/// history.record_validation(1, 4.05);
/// assert_eq!(history.to_csv(), "step,train_loss,validation_loss\n1,4.17,4.05\n");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    rows: Vec<Row>,
}

impl History {
    /// The history in `path` (`history.csv`), or an empty one if there is no such file.
    pub fn read(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Ok(History::default());
        }
        let bytes = read_regular_file(path, "history", 1 << 30)?;
        let text = String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?;
        let mut lines = text.lines();
        ensure!(lines.next() == Some("step,train_loss,validation_loss"), "{} is not a loss history", path.display());
        let number = |s: &str| -> Result<Option<f64>> { if s.is_empty() { Ok(None) } else { Ok(Some(s.parse()?)) } };
        let rows = lines
            .enumerate()
            .map(|(i, line)| {
                let fields: Vec<&str> = line.split(',').collect();
                let [step, train, validation] = fields[..] else {
                    bail!("{} line {}: expected 3 fields, got {:?}", path.display(), i + 2, line);
                };
                Ok(Row { step: step.parse()?, train_loss: number(train)?, validation_loss: number(validation)? })
            })
            .collect::<Result<Vec<Row>>>()
            .with_context(|| format!("cannot read the history {}", path.display()))?;
        Ok(History { rows })
    }

    /// The rows, in step order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Forgets the steps after `step` (resuming from a checkpoint of that step).
    pub fn truncate(&mut self, step: i64) {
        self.rows.retain(|r| r.step <= step);
    }

    fn row(&mut self, step: i64) -> &mut Row {
        if self.rows.last().is_none_or(|r| r.step != step) {
            self.rows.push(Row { step, train_loss: None, validation_loss: None });
        }
        self.rows.last_mut().expect("a row")
    }

    /// The training loss of `step`.
    pub fn record_train(&mut self, step: i64, loss: f64) {
        self.row(step).train_loss = Some(loss);
    }

    /// The validation loss measured after `step`.
    pub fn record_validation(&mut self, step: i64, loss: f64) {
        self.row(step).validation_loss = Some(loss);
    }

    /// The history as CSV text.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("step,train_loss,validation_loss\n");
        let field = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        for r in &self.rows {
            csv += &format!("{},{},{}\n", r.step, field(r.train_loss), field(r.validation_loss));
        }
        csv
    }

    /// Writes `history.csv` and `loss.png` into `dir`, each atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        write_bytes_atomically(&dir.join("history.csv"), self.to_csv().as_bytes())?;
        let png = dir.join("loss.png");
        write_atomically(&png, |tmp| {
            // The encoder picks the format from the extension.
            let drawn = temporary_sibling(tmp, "png").with_extension("png");
            let result = self.plot(&drawn).and_then(|()| Ok(std::fs::rename(&drawn, tmp)?));
            if result.is_err() {
                let _ = std::fs::remove_file(&drawn);
            }
            result
        })
    }

    /// Draws the training loss (and its running mean over 50 steps) and the validation loss
    /// against the step into the PNG file `path`.
    fn plot(&self, path: &Path) -> Result<()> {
        register_font();
        let train: Vec<(f64, f64)> = self
            .rows
            .iter()
            .filter_map(|r| r.train_loss.map(|l| (r.step as f64, l)))
            .filter(|p| p.1.is_finite())
            .collect();
        let validation: Vec<(f64, f64)> = self
            .rows
            .iter()
            .filter_map(|r| r.validation_loss.map(|l| (r.step as f64, l)))
            .filter(|p| p.1.is_finite())
            .collect();
        let smooth: Vec<(f64, f64)> = train
            .iter()
            .enumerate()
            .map(|(i, &(step, _))| {
                let window = &train[i.saturating_sub(49)..=i];
                (step, window.iter().map(|p| p.1).sum::<f64>() / window.len() as f64)
            })
            .collect();
        let all = train.iter().chain(&validation);
        let last_step = all.clone().map(|p| p.0).fold(1.0, f64::max);
        let top = all.clone().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.05;
        let bottom = all.map(|p| p.1).fold(f64::INFINITY, f64::min).min(top) * 0.95;
        let root = BitMapBackend::new(path, (900, 520)).into_drawing_area();
        let plot_error = |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot draw the loss plot: {e}");
        root.fill(&WHITE).map_err(|e| plot_error(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("tch-rnn train: loss", ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..last_step, bottom..top)
            .map_err(|e| plot_error(&e))?;
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc("cross entropy (nats per character)")
            .label_style(("sans-serif", 14))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(|e| plot_error(&e))?;
        let light_blue = RGBColor(160, 190, 230);
        let series: [Series; 3] = [
            (&train, light_blue, 1, "training (each step)"),
            (&smooth, BLUE, 2, "training (mean of 50 steps)"),
            (&validation, RED, 2, "validation"),
        ];
        for (points, color, width, label) in series {
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(width)))
                .map_err(|e| plot_error(&e))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| plot_error(&e))?;
        root.present().map_err(|e| plot_error(&e))?;
        Ok(())
    }
}

/// A line of the plot: its points, colour, width and legend.
type Series<'a> = (&'a [(f64, f64)], RGBColor, u32, &'static str);

/// Text in the plot is drawn with the Hack font shipped in `epaint_default_fonts`, so no
/// system font library is needed.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, epaint_default_fonts::HACK_REGULAR);
    });
}
