//! Every tutorial program prints what its PyTorch twin printed for the same seed.
//! Fixtures: tests/fixtures/tutorials/<program>/seed_<s>.txt, from scripts/export_tutorials.py
//! (which runs the twins in scripts/pytorch/).
//!
//! The fixtures may come from another CPU, whose MKL and ATen code paths round the last bits
//! differently, so each printed decimal may differ by one unit in its last digit
//! (tests/common/printed.rs); any other difference fails with a diff. tests/live_parity.rs
//! requires the same bytes against this machine's PyTorch.
//!
//! One test runs them all, one after the other: the programs seed libtorch's global generator,
//! so they must not run concurrently in one process.

mod common;

use common::printed::compare_printed;
use common::{fixtures_root, report, rng_lock};
use tch_rnn::tutorials::{Options, PROGRAMS, run};

#[test]
fn every_program_prints_what_its_pytorch_twin_prints() {
    let _rng = rng_lock();
    let root = fixtures_root().join("tutorials");
    let mut failures = Vec::new();
    let (mut checked, mut identical, mut off_by_one) = (0, 0, 0);
    for program in PROGRAMS {
        let dir = root.join(program);
        let mut seeds: Vec<i64> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("missing fixtures {}: {e}; run scripts/regenerate-fixtures.sh", dir.display()))
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                name.strip_prefix("seed_")?.strip_suffix(".txt")?.parse().ok()
            })
            .collect();
        seeds.sort();
        assert!(seeds.len() >= 5, "{program}: expected fixtures for at least 5 seeds, found {seeds:?}");
        for seed in seeds {
            let expected = std::fs::read_to_string(dir.join(format!("seed_{seed}.txt"))).unwrap();
            let mut printed = Vec::new();
            run(program, &Options { seed, ..Default::default() }, &mut printed).unwrap();
            let printed = String::from_utf8(printed).expect("utf-8 output");
            checked += 1;
            identical += usize::from(printed == expected);
            match compare_printed(&expected, &printed) {
                Ok(c) => off_by_one += c.off_by_one,
                Err(diff) => failures.push(format!("{program} seed {seed} (- PyTorch, + Rust):\n{diff}")),
            }
        }
    }
    report(&format!(
        "tutorials (fixtures): {checked} outputs, {identical} byte-identical, {off_by_one} printed decimals one unit off in the last digit"
    ));
    assert!(failures.is_empty(), "{} of {checked} outputs differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn an_unknown_program_is_an_error() {
    let err = run("hello_lstm_typo", &Options::default(), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("no program named 'hello_lstm_typo'"), "{err}");
}

/// The comparison allows one unit in the last digit of a decimal, and nothing else.
#[test]
fn printed_numbers_may_differ_by_one_unit_in_the_last_digit_only() {
    let ok = |e: &str, a: &str| compare_printed(e, a).unwrap_or_else(|d| panic!("{e:?} vs {a:?} should match:\n{d}"));
    let fails = |e: &str, a: &str| assert!(compare_printed(e, a).is_err(), "{e:?} vs {a:?} should differ");

    assert_eq!(ok("loss: 2.2400\n", "loss: 2.2400\n").off_by_one, 0);
    assert_eq!(ok("loss: 2.2400\n", "loss: 2.2399\n").off_by_one, 1);
    ok("loss: 1.0000\n", "loss: 0.9999\n");
    ok(
        "tensor([[-0.4140,  0.1517]], grad_fn=<TanhBackward0>)",
        "tensor([[-0.4139,  0.1518]], grad_fn=<TanhBackward0>)",
    );
    ok("tensor([1.0000e-05, 2.0000e+00])", "tensor([1.0001e-05, 2.0000e+00])");
    ok("x -0.0001 y", "x 0.0000 y");

    fails("loss: 2.2400\n", "loss: 2.2398\n"); // two units
    fails("loss: 2.2400\n", "loss: 2.240\n"); // another number of digits
    fails("tensor([1.0000e-05])", "tensor([1.0000e-06])"); // another exponent
    fails("Predicted string:ohlol, Epoch [1/15]", "Predicted string:ohlll, Epoch [1/15]");
    fails("Epoch [1/15] loss: 1.0000", "Epoch [2/15] loss: 1.0000"); // integers are exact
    fails("torch.Size([3, 1, 2])", "torch.Size([3, 1, 3])");
    fails("a\nb\n", "a\n"); // a missing line
    fails("a\n", "a\nb\n"); // an extra line
    fails("a 1.0\n", "a  1.0\n"); // spacing
    fails("grad_fn=<TanhBackward0>", "grad_fn=<TanhBackward1>");
    let diff = compare_printed("x\nloss: 2.2400\n", "x\nloss: 2.2300\n").unwrap_err();
    assert!(diff.contains("line 2") && diff.contains("- loss: 2.2400") && diff.contains("+ loss: 2.2300"), "{diff}");
}
