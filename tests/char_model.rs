//! The character model's training, on tiny settings that take a second: an interrupted or
//! stopped run resumed ends on the very bits of an uninterrupted one; checkpoints hold the whole
//! run and refuse corruption; a run is never overwritten; sampling and evaluation work and run
//! without gradients; the history goes to CSV and PNG; a diverging run stops and keeps its last
//! good checkpoint.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use common::{TempDir, rng_lock};
use tch::{Device, Kind, Tensor};
use tch_rnn::charlm::{
    Checkpoint, Layer, Outcome, Quiet, ResumeConflicts, RunExists, SHAKESPEARE, SampleOptions, TrainJob, beam_search,
    evaluate, evaluate_windows, log_probability, sample, train,
};
use tch_rnn::options::{OptionError, Overrides};

/// The first 20 000 characters of the embedded Shakespeare, in `dir`.
pub fn tiny_text(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.txt");
    std::fs::write(&path, &SHAKESPEARE[..20_000]).expect("write the tiny text");
    path
}

/// The options of a 2-layer LSTM of 16 with embeddings of 8, windows of 16 x 4.
fn tiny_options(text: &Path, steps: i64) -> Overrides {
    Overrides::default()
        .set("text", text)
        .set("hidden", 16)
        .set("embedding", 8)
        .set("layers", 2)
        .set("seq_len", 16)
        .set("batch", 4)
        .set("steps", steps)
        .set("eval_every", 4)
        .set("sample_every", 3)
}

/// A new run of [`tiny_options`] in `out`, on one thread.
fn tiny(text: &Path, out: &Path, steps: i64) -> TrainJob {
    tch::set_num_threads(1);
    TrainJob::new(out.to_path_buf()).given(tiny_options(text, steps))
}

fn run(job: &TrainJob) -> tch_rnn::charlm::Report {
    train(job, &mut Quiet, &AtomicBool::new(false)).unwrap_or_else(|e| panic!("{e:#}"))
}

/// The bytes of every tensor file of the run's latest checkpoint.
fn latest_tensors(out: &Path) -> Vec<(String, Vec<u8>)> {
    ["model.safetensors", "optimizer.safetensors", "rng.safetensors"]
        .iter()
        .map(|name| (name.to_string(), std::fs::read(out.join("latest").join(name)).expect("checkpoint file")))
        .collect()
}

fn train_losses(out: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(out.join("history.csv")).expect("history.csv");
    csv.lines().skip(1).map(|line| line.split(',').take(2).collect::<Vec<_>>().join(",")).collect()
}

#[test]
fn a_resumed_run_ends_on_the_bits_of_an_uninterrupted_one() {
    let _rng = rng_lock();
    let dir = TempDir::new("resume");
    let text = tiny_text(dir.path());
    let (straight, split) = (dir.path().join("straight"), dir.path().join("split"));
    let report = run(&tiny(&text, &straight, 11));
    assert_eq!((report.outcome, report.step), (Outcome::Finished, 11));
    run(&tiny(&text, &split, 5));
    let report = run(&TrainJob { resume: true, ..tiny(&text, &split, 11) });
    assert_eq!(report.step, 11);
    assert_eq!(latest_tensors(&split), latest_tensors(&straight), "weights, Adam's state and generators");
    assert_eq!(train_losses(&split), train_losses(&straight), "the training loss of every step");
}

#[test]
fn a_resumed_run_keeps_its_optimizer_and_schedule_exactly() {
    let _rng = rng_lock();
    let dir = TempDir::new("resume-schedule");
    let text = tiny_text(dir.path());
    for (i, optimization) in [
        // A cosine's length is fixed when the run starts (by default, its evaluations then): given here.
        Overrides::default()
            .set("optimizer", "sgd")
            .set("lr", 0.1)
            .set("momentum", 0.9)
            .set("lr_schedule", "cosine")
            .set("lr_t_max", 5),
        Overrides::default().set("optimizer", "adamw").set("lr_schedule", "plateau").set("lr_patience", 0),
        // The streams carry their state from step to step: it is in the checkpoint too.
        Overrides::default().set("batching", "streams").set("seq_len", 64).set("batch", 8),
    ]
    .into_iter()
    .enumerate()
    {
        let (straight, split) = (dir.path().join(format!("straight-{i}")), dir.path().join(format!("split-{i}")));
        let job = |out: &Path, steps: i64| {
            let mut given = tiny_options(&text, steps).set("eval_every", 2);
            for field in [
                "optimizer",
                "lr",
                "momentum",
                "lr_schedule",
                "lr_t_max",
                "lr_patience",
                "batching",
                "seq_len",
                "batch",
            ] {
                if let Some(value) = optimization.get(field) {
                    given.insert(field, value.clone());
                }
            }
            TrainJob::new(out.to_path_buf()).given(given)
        };
        run(&job(&straight, 10));
        run(&job(&split, 4));
        run(&TrainJob { resume: true, ..job(&split, 10) });
        assert!(latest_tensors(&split) == latest_tensors(&straight), "{optimization:?}: weights and optimizer state");
        for file in ["optimizer.json", "scheduler.json", "carry.safetensors"] {
            let read = |run: &Path| std::fs::read(run.join("latest").join(file)).ok();
            assert!(read(&split) == read(&straight), "{optimization:?}: {file}");
        }
        let position = |run: &Path| Checkpoint::open(run).expect("checkpoint").state.stream;
        assert_eq!(position(&split), position(&straight), "{optimization:?}: the streams' position");
    }
}

#[test]
fn a_stopped_run_saves_and_resumes_exactly() {
    let _rng = rng_lock();
    let dir = TempDir::new("stop");
    let text = tiny_text(dir.path());
    let (straight, stopped) = (dir.path().join("straight"), dir.path().join("stopped"));
    run(&tiny(&text, &straight, 6));
    // Ctrl-C before the first step: a checkpoint of step 0 (the initial weights).
    let report = train(&tiny(&text, &stopped, 6), &mut Quiet, &AtomicBool::new(true)).expect("stopped run");
    assert_eq!((report.outcome, report.step), (Outcome::Interrupted, 0));
    assert_eq!(Checkpoint::open(&stopped).expect("checkpoint").state.step, 0);
    run(&TrainJob { resume: true, ..tiny(&text, &stopped, 6) });
    assert_eq!(latest_tensors(&stopped), latest_tensors(&straight));
}

#[test]
fn checkpoints_hold_the_run_and_refuse_corruption() {
    let _rng = rng_lock();
    let dir = TempDir::new("checkpoint");
    let text = tiny_text(dir.path());
    let out = dir.path().join("run");
    run(&tiny(&text, &out, 8));
    let checkpoint = Checkpoint::open(&out).expect("open");
    assert_eq!(checkpoint.state.step, 8);
    assert_eq!(checkpoint.config.model.cell, Layer::Lstm);
    assert_eq!(checkpoint.config.model.hidden, 16);
    assert!(checkpoint.state.validation_loss.is_some() && checkpoint.state.best_validation_loss.is_some());
    assert!(Checkpoint::open(&out.join("best")).is_ok(), "best points at a checkpoint too");
    let kept: Vec<String> = std::fs::read_dir(out.join("checkpoints"))
        .expect("checkpoints")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(kept.len() <= 2, "only latest and best are kept: {kept:?}");

    // One flipped bit in the weights.
    let weights = out.join("latest/model.safetensors");
    let good = std::fs::read(&weights).expect("weights");
    let mut bytes = good.clone();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&weights, &bytes).expect("corrupt the weights");
    let message = format!("{:#}", Checkpoint::open(&out).expect_err("a corrupt checkpoint"));
    assert!(message.contains("model.safetensors") && message.contains("corrupt"), "{message}");
    std::fs::write(&weights, &good).expect("restore the weights");
    // A missing file.
    std::fs::remove_file(out.join("latest/vocab.json")).expect("remove");
    let message = format!("{:#}", Checkpoint::open(&out).expect_err("an incomplete checkpoint"));
    assert!(message.contains("incomplete") && message.contains("vocab.json"), "{message}");
    let message = format!("{:#}", Checkpoint::open(dir.path()).expect_err("no checkpoint"));
    assert!(message.contains("no checkpoint at"), "{message}");
}

#[test]
fn a_run_is_never_overwritten_and_a_resume_must_match_it() {
    let _rng = rng_lock();
    let dir = TempDir::new("overwrite");
    let text = tiny_text(dir.path());
    let out = dir.path().join("run");
    run(&tiny(&text, &out, 4));
    let before = latest_tensors(&out);
    let stop = AtomicBool::new(false);
    let error = train(&tiny(&text, &out, 8), &mut Quiet, &stop).expect_err("a second run in the same folder");
    let exists = error.downcast_ref::<RunExists>().unwrap_or_else(|| panic!("not RunExists: {error:#}"));
    assert!(exists.to_string().contains("already holds a training run"), "{exists}");
    let given = tiny_options(&text, 8).set("hidden", 32).set("lr", 0.5).set("batch", 4);
    let other = TrainJob { given, resume: true, ..tiny(&text, &out, 8) };
    let error = train(&other, &mut Quiet, &stop).expect_err("another hidden size and learning rate");
    let message = error.downcast_ref::<ResumeConflicts>().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.ends_with("hidden 32 (the run has 16), lr 0.5 (the run has 0.002)"), "{error:#}");
    let other_text = dir.path().join("other.txt");
    std::fs::write(&other_text, &SHAKESPEARE[100..20_100]).expect("write");
    let error = train(&tiny(&other_text, &out, 8).with_resume(), &mut Quiet, &stop).expect_err("another text");
    assert!(format!("{error:#}").contains("is not the one the run was trained on"), "{error:#}");
    let error = train(&tiny(&text, &out, 4).with_resume(), &mut Quiet, &stop).expect_err("no more steps");
    let field = error.downcast_ref::<OptionError>().map(|e| (e.field.as_str(), e.message.as_str()));
    assert!(field.is_some_and(|(f, m)| f == "steps" && m.contains("already at step 4")), "{error:#}");
    assert_eq!(latest_tensors(&out), before, "failed runs must leave the run as it was");
}

trait WithResume {
    fn with_resume(self) -> Self;
}

impl WithResume for TrainJob {
    fn with_resume(self) -> Self {
        TrainJob { resume: true, ..self }
    }
}

/// A tiny model trained 8 steps, its checkpoint, and the model loaded from it in evaluation
/// mode.
struct Trained {
    _dir: TempDir,
    checkpoint: Checkpoint,
    _vs: tch::nn::VarStore,
    model: tch_rnn::charlm::CharModel,
}

impl Trained {
    fn new(label: &str) -> Self {
        let dir = TempDir::new(label);
        let text = tiny_text(dir.path());
        let out = dir.path().join("run");
        run(&tiny(&text, &out, 8));
        let checkpoint = Checkpoint::open(&out).expect("open");
        let (vs, mut model) = checkpoint.load_model(Device::Cpu).expect("model");
        model.train(false);
        Trained { _dir: dir, checkpoint, _vs: vs, model }
    }
}

#[test]
fn sampling_and_evaluation_run_without_gradients() {
    let _rng = rng_lock();
    let trained = Trained::new("sample");
    let (checkpoint, model) = (&trained.checkpoint, &trained.model);
    let options = SampleOptions { prime: "ROMEO:\n".into(), length: 40, temperature: 0.0, ..Default::default() };
    let greedy = sample(model, &checkpoint.vocab, &options, Device::Cpu).expect("sample");
    assert_eq!(greedy.chars().count(), 40);
    assert_eq!(greedy, sample(model, &checkpoint.vocab, &options, Device::Cpu).unwrap(), "argmax is deterministic");
    let drawn = |seed: i64| {
        tch::manual_seed(seed);
        let options = SampleOptions { temperature: 1.0, top_k: Some(5), ..options.clone() };
        sample(model, &checkpoint.vocab, &options, Device::Cpu).expect("sample")
    };
    assert_eq!(drawn(3), drawn(3), "the same seed draws the same text");
    let unknown = SampleOptions { prime: "ROMEO 1".into(), ..options.clone() };
    let message = format!("{:#}", sample(model, &checkpoint.vocab, &unknown, Device::Cpu).expect_err("a digit"));
    assert!(message.contains("'1'") && message.contains("not in the model's vocabulary"), "{message}");

    let data = Tensor::from_slice(&checkpoint.vocab.encode(&SHAKESPEARE[..3000]).expect("encode"));
    let result = evaluate(model, &data, 16, 4, Device::Cpu).expect("evaluate");
    assert_eq!(result.predictions, 2999);
    assert!(result.loss.is_finite() && result.loss > 0.0);
    assert!((result.bits_per_character() - result.loss / std::f64::consts::LN_2).abs() < 1e-12);
    // Windows of another length cover the same predictions: nearly the same loss.
    let other = evaluate(model, &data, 7, 3, Device::Cpu).expect("evaluate");
    assert_eq!(other.predictions, 2999);
    assert!((other.loss - result.loss).abs() < 0.3, "{} vs {}", other.loss, result.loss);
    let logits = tch::no_grad(|| model.forward(&data.narrow(0, 0, 8).view([1, 8]), None).expect("forward").0);
    assert!(!logits.requires_grad(), "no gradient tracking outside training");
}

#[test]
fn nucleus_and_beam_sampling_meet_greedy_decoding_at_their_limits() {
    let _rng = rng_lock();
    let trained = Trained::new("beam");
    let (checkpoint, model) = (&trained.checkpoint, &trained.model);
    let vocab = &checkpoint.vocab;
    let window = Some(checkpoint.config.data.seq_len);
    for prime in ["ROMEO:\n", "First Citizen:\nBefore we proceed any further, hear me speak.\n", "t"] {
        let greedy = SampleOptions { prime: prime.into(), length: 30, temperature: 0.0, window, ..Default::default() };
        let argmax = sample(model, vocab, &greedy, Device::Cpu).expect("greedy");
        // A nucleus so small that only the most likely character is in it.
        let nucleus = SampleOptions { temperature: 1.0, top_p: Some(1e-9), ..greedy.clone() };
        tch::manual_seed(5);
        assert_eq!(sample(model, vocab, &nucleus, Device::Cpu).expect("top-p"), argmax, "{prime:?}: top-p 1e-9");
        let (beam, score) = beam_search(model, vocab, prime, 30, 1, window, Device::Cpu).expect("beam 1");
        assert_eq!(beam, argmax, "{prime:?}: a beam of width 1 is greedy");
        for width in [1, 3, 8] {
            let (text, score) = beam_search(model, vocab, prime, 30, width, window, Device::Cpu).expect("beam");
            let own = log_probability(model, vocab, prime, &text, Device::Cpu).expect("log-probability");
            assert!((score - own).abs() < 1e-4 * own.abs().max(1.0), "{prime:?} width {width}: {score} vs {own}");
        }
        assert!(score < 0.0);
    }
    let err = beam_search(model, vocab, "ROMEO", 5, 0, window, Device::Cpu).expect_err("width 0").to_string();
    assert!(err.contains("beam width must be at least 1"), "{err}");
}

#[test]
fn stateful_evaluation_of_one_stream_is_one_pass_over_the_text() {
    let _rng = rng_lock();
    let trained = Trained::new("stateful");
    let (checkpoint, model) = (&trained.checkpoint, &trained.model);
    let data = Tensor::from_slice(&checkpoint.vocab.encode(&SHAKESPEARE[..2001]).expect("encode"));
    let n = data.size()[0];
    let (logits, _) = tch::no_grad(|| model.forward(&data.narrow(0, 0, n - 1).view([1, -1]), None)).expect("one pass");
    let one_pass = logits.view([n - 1, -1]).log_softmax(-1, Kind::Double).gather(
        1,
        &data.narrow(0, 1, n - 1).view([-1, 1]),
        false,
    );
    let one_pass = -one_pass.mean(Kind::Double).double_value(&[]);
    for seq_len in [16, 7, 2000] {
        let streamed = evaluate(model, &data, seq_len, 1, Device::Cpu).expect("evaluate");
        assert_eq!(streamed.predictions, n - 1);
        assert!((streamed.loss - one_pass).abs() < 1e-6, "windows of {seq_len}: {} vs {one_pass}", streamed.loss);
    }
    // More streams cover the same predictions; with the state carried they are better than
    // windows that start from zero.
    let streams = evaluate(model, &data, 16, 6, Device::Cpu).expect("streams");
    let windows = evaluate_windows(model, &data, 16, 6, Device::Cpu).expect("windows");
    assert_eq!((streams.predictions, windows.predictions), (n - 1, n - 1));
    assert!(streams.loss < windows.loss, "{} vs {}", streams.loss, windows.loss);
}

#[test]
fn patience_stops_a_run_that_no_longer_improves() {
    let _rng = rng_lock();
    let dir = TempDir::new("patience");
    let text = tiny_text(dir.path());
    let out = dir.path().join("run");
    // A learning rate so high that the validation loss soon stops improving.
    let given = tiny_options(&text, 200).set("lr", 0.5).set("eval_every", 1).set("patience", 3);
    let report = run(&TrainJob::new(out.clone()).given(given));
    assert_eq!(report.outcome, Outcome::Patience, "stopped at step {}", report.step);
    let (best_dir, best_loss) = report.best.expect("a best checkpoint");
    let best = Checkpoint::open(&best_dir).expect("the best checkpoint");
    assert_eq!(best.state.validation_loss, Some(best_loss));
    assert_eq!(report.step - best.state.step, 3, "three evaluations (one a step) after the best");
    assert_eq!(std::fs::canonicalize(out.join("best")).unwrap(), best_dir);
}

#[test]
fn the_history_goes_to_csv_and_png() {
    let _rng = rng_lock();
    let dir = TempDir::new("history");
    let text = tiny_text(dir.path());
    let out = dir.path().join("run");
    run(&tiny(&text, &out, 9));
    let csv = std::fs::read_to_string(out.join("history.csv")).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "step,train_loss,validation_loss");
    assert_eq!(lines.len(), 10, "one row a step");
    let with_validation: Vec<&str> = lines[1..].iter().filter(|l| !l.ends_with(',')).copied().collect();
    assert_eq!(with_validation.len(), 3, "validation at steps 4, 8 and 9: {with_validation:?}");
    let png = std::fs::read(out.join("loss.png")).expect("png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "a drawn PNG of {} bytes", png.len());
}

#[test]
fn a_diverging_run_stops_and_keeps_its_last_good_checkpoint() {
    let _rng = rng_lock();
    let dir = TempDir::new("diverge");
    let text = tiny_text(dir.path());
    let out = dir.path().join("run");
    // Adam moves every weight by about lr a step: within a few steps the logits overflow float32.
    // Until then every step is checkpointed (eval_every 1).
    let given = tiny_options(&text, 50).set("lr", 1e36).set("clip", 0.0).set("eval_every", 1);
    let job = TrainJob { given, ..tiny(&text, &out, 50) };
    let message = format!("{:#}", train(&job, &mut Quiet, &AtomicBool::new(false)).expect_err("a diverging run"));
    assert!(message.contains(" loss is ") && message.contains("training stopped"), "{message}");
    let step: i64 = message
        .split("at step ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .and_then(|s| s.parse().ok())
        .expect("a step");
    let checkpoint = Checkpoint::open(&out).expect("the last good checkpoint");
    assert_eq!(checkpoint.state.step, step - 1, "{message}");
    assert!(message.contains(&format!("checkpoints/step-{:06}, is kept", step - 1)), "{message}");
}
