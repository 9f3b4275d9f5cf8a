//! DDP's gradient buckets: which parameters' gradients are reduced together, in which order,
//! and the reduction of one bucket as DDP's Reducer does it. Gloo's ring sums each chunk of a
//! buffer in another rank order, so only DDP's own layout gives DDP's bits on 3 ranks or more.

use anyhow::{Result, anyhow, bail};
use tch::{Kind, Tensor};

use super::ProcessGroup;
use crate::ffi::distributed::{bucket_assignment, default_bucket_bytes};

/// DDP's first buckets (`DistributedDataParallel.__init__` with its defaults, neither a static
/// graph nor `find_unused_parameters`): `_compute_bucket_assignment_by_size(params,
/// [sys.maxsize])`, reversed. In practice one bucket per kind and device, in parameter order.
pub(crate) fn initial(params: &[Tensor]) -> Result<Vec<Vec<usize>>> {
    let mut buckets = bucket_assignment(params, &[isize::MAX as usize], None).map_err(|e| anyhow!(e))?;
    buckets.reverse();
    Ok(buckets)
}

/// The buckets DDP's Reducer rebuilds before the second iteration: the parameters in the order
/// their gradients became ready in the first backward pass, cut at its default caps (1 MiB for
/// the first bucket, 25 MiB for the others).
pub(crate) fn rebuilt(params: &[Tensor], ready: &[usize]) -> Result<Vec<Vec<usize>>> {
    let mut seen = vec![false; params.len()];
    for &index in ready {
        seen[index] = true;
    }
    if let Some(missing) = seen.iter().position(|&s| !s) {
        bail!("parameter {missing} got no gradient in the first backward pass: every parameter must get one");
    }
    let (first, others) = default_bucket_bytes().map_err(|e| anyhow!(e))?;
    let ordered: Vec<Tensor> = ready.iter().map(|&i| params[i].shallow_clone()).collect();
    bucket_assignment(&ordered, &[first, others], Some(ready)).map_err(|e| anyhow!(e))
}

/// The Reducer's `sync_bucket_indices`: rank 0's buckets, broadcast to every rank as two int32
/// tensors (the indices followed by the bucket count, then the bucket lengths).
pub(crate) fn synced(group: &ProcessGroup, buckets: &[Vec<usize>]) -> Result<Vec<Vec<usize>>> {
    let mut indices: Vec<i32> = buckets.iter().flatten().map(|&i| i as i32).collect();
    indices.push(buckets.len() as i32);
    let indices = Tensor::from_slice(&indices);
    group.broadcast(&[indices.shallow_clone()], 0)?;
    let indices = Vec::<i32>::try_from(&indices)?;
    let count = *indices.last().unwrap_or(&0) as usize;
    // As the Reducer does, a rank with fewer buckets than rank 0 repeats its last length.
    let lengths: Vec<i32> = (0..count).map(|i| buckets[i.min(buckets.len() - 1)].len() as i32).collect();
    let lengths = Tensor::from_slice(&lengths);
    group.broadcast(&[lengths.shallow_clone()], 0)?;
    let mut rest = indices.into_iter().map(|i| i as usize);
    Ok(Vec::<i32>::try_from(&lengths)?.into_iter().map(|n| rest.by_ref().take(n as usize).collect()).collect())
}

/// Averages the gradients of `bucket` over the group as DDP's Reducer does: each one scaled by
/// 1/world while copied into one flat buffer (laid out with the parameter's strides), one SUM
/// allreduce of that buffer, and the result copied back into the gradients.
pub(crate) fn average(group: &ProcessGroup, params: &[Tensor], bucket: &[usize]) -> Result<()> {
    let grads = bucket
        .iter()
        .map(|&i| {
            let grad = params[i].grad();
            if grad.defined() { Ok(grad) } else { Err(anyhow!("parameter {i} has no gradient: call backward first")) }
        })
        .collect::<Result<Vec<Tensor>>>()?;
    let numel: i64 = grads.iter().map(|g| g.numel() as i64).sum();
    let flat = Tensor::empty([numel], (grads[0].kind(), grads[0].device()));
    let scale = 1.0 / group.world_size() as f64;
    let mut views = Vec::with_capacity(grads.len());
    let mut offset = 0;
    for (grad, &i) in grads.iter().zip(bucket) {
        let mut view = flat.f_as_strided(params[i].size(), params[i].stride(), Some(offset))?;
        view.f_copy_(&grad.f_mul_scalar(scale)?)?;
        offset += grad.numel() as i64;
        views.push(view);
    }
    group.allreduce(&[flat.shallow_clone()])?;
    for (mut grad, view) in grads.into_iter().zip(views) {
        grad.f_copy_(&view)?;
    }
    Ok(())
}

/// Checks that `params` can be DDP's: at least one, each a defined floating-point leaf that
/// requires grad and is laid out densely.
pub(crate) fn check_params(params: &[Tensor]) -> Result<()> {
    if params.is_empty() {
        bail!("expected at least one parameter, got none");
    }
    for (i, p) in params.iter().enumerate() {
        if !p.defined() || !p.requires_grad() || !p.is_leaf() {
            bail!("parameter {i}: expected a defined leaf tensor that requires grad");
        }
        if !matches!(p.kind(), Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16) {
            bail!("parameter {i}: expected a floating-point tensor, got {:?}", p.kind());
        }
        if !p.is_contiguous() {
            bail!("parameter {i}: expected a contiguous tensor, got strides {:?}", p.stride());
        }
    }
    Ok(())
}
