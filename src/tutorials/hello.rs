//! The data of the "hello" -> "ohlol" programs (sections 3.1-3.3), defined once, and the
//! progress line they all print.

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
/// the tutorial's hard-coded 15 (the same text for the default 15).
///
/// ```
/// assert_eq!(tch_rnn::tutorials::hello::epoch_line(1, 15, 1.54072), ", Epoch [1/15] loss: 1.5407");
/// ```
pub fn epoch_line(epoch: i64, epochs: i64, loss: f64) -> String {
    format!(", Epoch [{epoch}/{epochs}] loss: {loss:.4}")
}
