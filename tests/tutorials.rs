//! Every tutorial program prints, byte for byte, what its PyTorch twin prints for the same seed.
//! Fixtures: tests/fixtures/tutorials/<program>/seed_<s>.txt, from scripts/export_tutorials.py
//! (which runs the twins in scripts/pytorch/).
//!
//! One test runs them all, one after the other: the programs seed libtorch's global generator,
//! so they must not run concurrently in one process.

use std::path::Path;

use tch_rnn::tutorials::{Options, PROGRAMS, run};

#[test]
fn every_program_prints_what_its_pytorch_twin_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tutorials");
    let mut failures = Vec::new();
    let mut checked = 0;
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
            let expected = std::fs::read(dir.join(format!("seed_{seed}.txt"))).unwrap();
            let mut printed = Vec::new();
            run(program, &Options { seed, ..Default::default() }, &mut printed).unwrap();
            checked += 1;
            if printed != expected {
                failures.push(format!(
                    "{program} seed {seed}:\n--- pytorch\n{}\n--- rust\n{}",
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&printed)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} outputs differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn an_unknown_program_is_an_error() {
    let err = run("hello_lstm", &Options::default(), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("no program named 'hello_lstm'"), "{err}");
}
