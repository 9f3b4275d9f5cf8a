//! What the "hello" -> "ohlol" programs (section 3 and its LSTM/GRU twins) share, written once:
//! the data, the one-hot inputs, and sections 4 and 5 of their twins (loss, optimizer and
//! training loop), in the two forms the tutorial uses: the whole sequence at once, or one
//! character at a time through a cell.

use std::io::Write;

use anyhow::Result;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::nn::CrossEntropyLoss;
use crate::optim::{Adam, AdamConfig};

/// The dictionary: index -> character.
pub const INDEX2CHAR: [char; 4] = ['e', 'h', 'l', 'o'];
/// "hello" as dictionary indices.
pub const X_DATA: [i64; 5] = [1, 0, 2, 2, 3];
/// The labels, "ohlol".
pub const Y_DATA: [i64; 5] = [3, 1, 2, 3, 2];
/// The table that turns `X_DATA` into one-hot vectors.
pub const ONE_HOT_LOOKUP: [[f32; 4]; 4] =
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];

/// `', Epoch [%d/15] loss: %.4f' % (epoch, loss)`, with the real number of epochs in place of
/// the tutorial's hard-coded 15 (the same text for the default 15), and Python's `nan` / `inf`
/// spellings.
///
/// ```
/// assert_eq!(tch_rnn::tutorials::hello::epoch_line(1, 15, 1.54072), ", Epoch [1/15] loss: 1.5407");
/// assert_eq!(tch_rnn::tutorials::hello::epoch_line(2, 15, f64::NAN), ", Epoch [2/15] loss: nan");
/// ```
pub fn epoch_line(epoch: i64, epochs: i64, loss: f64) -> String {
    let loss = match loss {
        l if l.is_nan() => "nan".to_string(),
        l if l.is_infinite() => (if l > 0.0 { "inf" } else { "-inf" }).to_string(),
        l => format!("{l:.4}"),
    };
    format!(", Epoch [{epoch}/{epochs}] loss: {loss}")
}

/// `torch.Tensor([one_hot_lookup[x] for x in x_data])`: "hello" as one-hot rows, `(5, 4)`.
///
/// ```
/// let inputs = tch_rnn::tutorials::hello::one_hot_inputs();
/// assert_eq!(inputs.size(), [5, 4]);
/// ```
pub fn one_hot_inputs() -> Tensor {
    let x_one_hot: Vec<f32> = X_DATA.iter().flat_map(|&x| ONE_HOT_LOOKUP[x as usize]).collect();
    Tensor::from_slice(&x_one_hot).view([X_DATA.len() as i64, -1])
}

/// The characters of `INDEX2CHAR` that `indices` name.
fn chars(indices: &Tensor) -> Result<String> {
    Ok(Vec::<i64>::try_from(indices)?.iter().map(|&x| INDEX2CHAR[x as usize]).collect())
}

/// Sections 4 and 5 of the programs that predict the whole sequence at once (3.2, 3.3,
/// hello_lstm, hello_gru): CrossEntropyLoss and Adam over `vs`, then for each epoch
/// `outputs = net(inputs)`, loss, backward, step, and the line
/// `Predicted string:  ..., Epoch [e/E] loss: ...`.
pub fn train_whole_sequence(
    vs: &VarStore,
    net: impl Fn(&Tensor) -> Result<Tensor>,
    inputs: &Tensor,
    labels: &Tensor,
    lr: f64,
    epochs: i64,
    out: &mut dyn Write,
) -> Result<()> {
    // 4. loss and optimizer
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let mut optimizer = Adam::new(vs.trainable_variables(), AdamConfig { lr, ..Default::default() })?; // Adam optimizer

    // 5. training
    for epoch in 0..epochs {
        optimizer.zero_grad();
        let outputs = net(inputs)?;
        let loss = criterion.forward(&outputs, labels)?;
        loss.f_backward()?;
        optimizer.step()?;

        let (_, idx) = outputs.f_max_dim(1, false)?;
        write!(out, "Predicted string:  {}", chars(&idx)?)?;
        writeln!(out, "{}", epoch_line(epoch + 1, epochs, loss.f_double_value(&[])?))?;
    }
    Ok(())
}

/// Sections 4 and 5 of the programs that feed one character at a time to a cell (3.1,
/// hello_gru_cell, hello_lstm_cell): CrossEntropyLoss and Adam over `vs`, then for each epoch a
/// fresh `init_hidden()` state, one `net(input, state)` step per character adding that step's
/// loss on `hidden(&state)` and printing its prediction, then backward and step.
#[allow(clippy::too_many_arguments)]
pub fn train_step_by_step<S>(
    vs: &VarStore,
    init_hidden: impl Fn() -> S,
    net: impl Fn(&Tensor, S) -> Result<S>,
    hidden: impl Fn(&S) -> &Tensor,
    inputs: &Tensor,
    labels: &Tensor,
    lr: f64,
    epochs: i64,
    out: &mut dyn Write,
) -> Result<()> {
    // 4. loss and optimizer
    let criterion = CrossEntropyLoss::new(Default::default())?;
    let mut optimizer = Adam::new(vs.trainable_variables(), AdamConfig { lr, ..Default::default() })?; // Adam optimizer

    // 5. training
    for epoch in 0..epochs {
        let mut loss = Tensor::zeros([], (Kind::Float, Device::Cpu));
        optimizer.zero_grad(); // clear the gradients
        let mut state = init_hidden(); // initialise the hidden state
        write!(out, "Predicted string:")?;
        for (input, label) in inputs.unbind(0).iter().zip(labels.unbind(0).iter()) {
            // one character at a time, in sequence order
            state = net(input, state)?;
            loss += criterion.forward(hidden(&state), label)?; // no item(): backward comes later
            let (_, idx) = hidden(&state).f_max_dim(1, false)?; // index of the largest value
            write!(out, "{}", chars(&idx)?)?; // the predicted character
        }
        loss.f_backward()?; // back-propagation
        optimizer.step()?; // update the parameters
        writeln!(out, "{}", epoch_line(epoch + 1, epochs, loss.f_double_value(&[])?))?;
    }
    Ok(())
}
