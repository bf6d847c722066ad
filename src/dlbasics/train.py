"""Training loops that record what happened, so figures can be replayed later.

Two loops share one :class:`History` type:

* :func:`fit` trains a ``torch.nn.Module`` with any loss function and optimizer.
* :func:`gradient_descent` is the bare update ``W <- W - lr * dloss/dW`` on a
  parameter tensor ``W`` of a linear model ``yhat = X @ W`` (Week 1).

Record ``k`` always describes one state of the parameters: the parameters
after ``epoch[k]`` updates, the predictions ``yhat`` they give and the loss
they score. ``epoch[0] == 0`` is the starting point and the last record is the
state after the final update, so a run of ``epochs`` updates with
``record_every=1`` has ``epochs + 1`` records.

A non-finite loss is data, not an error: it is recorded, training stops and
``History.diverged`` is set.

Devices, one rule for every helper here that runs a network: the data it is given
(``X``, ``y``, every batch and every evaluated set) is moved to the device of the
network's first parameter (the CPU for a network without parameters), and whatever
is recorded (predictions, parameters, losses) is kept on the CPU. Data never has to
be moved by hand, and a record can always be plotted.

A loss function must return a 0-d tensor (one number, e.g. the default ``mean``
reduction); anything else is a ``ValueError`` in every helper.

Train/eval mode: every helper leaves ``net`` in the mode it found it in.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from dlbasics._checks import check_int, check_lr, check_matching_rows, check_tensor
from dlbasics.losses import LossLike, resolve_loss

__all__ = ["History", "ParamPath", "EpochLog", "fit", "fit_epochs", "gradient_descent", "replay"]


@dataclass(frozen=True)
class ParamPath:
    """Parameter snapshots of a run, with the name of every column.

    Attributes:
        values: float64 array of shape ``(k, p)``; row ``r`` holds record ``r``'s
            parameters, flattened.
        columns: ``p`` names, one per column: the parameter's name when it holds one
            number (``"0.bias"``), else with the flat index (``"W[0]"``, ``"W[1]"``).

    It behaves like ``values`` in NumPy code (``np.asarray(path)``, ``path[-1]``,
    ``path - W``, ``len(path)``, iteration over rows). :meth:`w0_w1` reads the
    intercept and slope columns by name, so plots cannot swap them.
    """

    values: np.ndarray
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64)  # a copy: the caller's stays writeable
        if values.ndim != 2 or values.shape[1] != len(self.columns):
            raise ValueError(
                f"values must have shape (k, {len(self.columns)}) for columns {self.columns}, "
                f"got {values.shape}"
            )
        values.flags.writeable = False
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "columns", tuple(self.columns))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.array(self.values, dtype=dtype, copy=True)

    def __len__(self) -> int:
        return self.values.shape[0]

    def __iter__(self):
        return iter(self.values)

    def __getitem__(self, index):
        return self.values[index]

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def w0_w1(self) -> np.ndarray:
        """The path as ``(intercept, slope)`` pairs, shape ``(k, 2)``, chosen by name.

        Recognised columns: a ``*bias`` and a ``*weight`` (``nn.Linear(1, 1)``, in
        either order), the two entries of one parameter (``W[0]``, ``W[1]`` of
        ``yhat = X @ W`` with ``X = [1, x]``), or columns named ``w0`` and ``w1``.
        """
        cols = self.columns
        if len(cols) == 2:
            bias = [i for i, c in enumerate(cols) if c.endswith("bias")]
            weight = [i for i, c in enumerate(cols) if c.endswith("weight")]
            if len(bias) == 1 and len(weight) == 1:
                return self.values[:, [bias[0], weight[0]]]
            base = cols[0].rsplit("[", 1)[0]
            if cols in ((f"{base}[0]", f"{base}[1]"), ("w0", "w1")):
                return self.values.copy()
        raise ValueError(
            f"cannot tell the intercept w0 and the slope w1 apart in the columns {list(cols)}; "
            "pick them by name, e.g. history.param_path(['0.bias', '0.weight']), or build "
            "ParamPath(values, columns=('w0', 'w1'))"
        )


@dataclass
class History:
    """What a training run recorded.

    Attributes:
        epoch: number of updates done at each record, ``[0, r, 2r, ..., epochs]``.
        loss: loss of the recorded parameters (``nan``/``inf`` kept as is).
        yhat: predictions of the recorded parameters, each shaped like the model output.
        params: parameter snapshots, ``{name: tensor}`` (detached copies).
        diverged: ``True`` when a non-finite loss stopped the run early.
        lr: the learning rate, when known (for titles and tables).
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    yhat: list[torch.Tensor] = field(default_factory=list)
    params: list[dict[str, torch.Tensor]] = field(default_factory=list)
    diverged: bool = False
    lr: float | None = None

    def __len__(self) -> int:
        return len(self.epoch)

    def record(self, epoch: int, loss: float, yhat: torch.Tensor, params: dict) -> None:
        """Append one record (copies are made, so later updates cannot change it)."""
        self.epoch.append(int(epoch))
        self.loss.append(float(loss))
        self.yhat.append(yhat.detach().cpu().clone())
        self.params.append({k: v.detach().cpu().clone() for k, v in params.items()})

    @property
    def final_params(self) -> dict[str, torch.Tensor]:
        """Parameters of the last record."""
        if not self.params:
            raise ValueError("history is empty: nothing was recorded")
        return self.params[-1]

    def at(self, epoch: int) -> int:
        """Index of the record taken after ``epoch`` updates (``ValueError`` if none)."""
        try:
            return self.epoch.index(check_int(epoch, "epoch"))
        except ValueError:
            raise ValueError(
                f"epoch={epoch} was not recorded; recorded epochs are "
                f"{self.epoch[:5]}{'...' if len(self.epoch) > 5 else ''}"
            ) from None

    def param_path(self, names: list[str] | None = None) -> ParamPath:
        """Flattened parameter snapshots, shape ``(len(self), p)``, with column names.

        ``names`` picks and orders the parameters (default: recording order). For
        Week 4's ``Sequential(Linear(1, 1), Sigmoid())``, ``names=["0.bias", "0.weight"]``
        gives ``(w0, w1)`` pairs; plots use :meth:`ParamPath.w0_w1`, which finds them
        by name in any order.
        """
        if not self.params:
            raise ValueError("history is empty: nothing was recorded")
        recorded = list(self.params[0])
        if names is None:
            keys = recorded
        elif isinstance(names, str) or not all(isinstance(k, str) for k in names):
            raise TypeError(f"names must be a list of parameter names, got {names!r}")
        else:
            keys = list(names)
        unknown = [k for k in keys if k not in self.params[0]]
        if unknown:
            raise ValueError(f"names={unknown} are not recorded parameters; choose from {recorded}")
        columns = []
        for k in keys:
            size = self.params[0][k].numel()
            columns += [k] if size == 1 else [f"{k}[{i}]" for i in range(size)]
        rows = [torch.cat([p[k].reshape(-1) for k in keys]).double().numpy() for p in self.params]
        return ParamPath(np.stack(rows), tuple(columns))


def _record_due(epoch: int, epochs: int, record_every: int) -> bool:
    return epoch % record_every == 0 or epoch == epochs


def _check_net_and_optimizer(net: object, loss_fn: object, optimizer: object) -> None:
    """Types, and an optimizer that updates ``net``'s own parameters (else nothing trains)."""
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    own = {id(p) for p in net.parameters()}
    given = [p for group in optimizer.param_groups for p in group["params"]]
    if not given or any(id(p) not in own for p in given):
        raise ValueError(
            "optimizer must be built on net's own parameters, e.g. "
            "torch.optim.SGD(net.parameters(), lr=0.1); this one holds parameters of "
            "another model, so training would not change net"
        )


def _scalar_loss(loss: object) -> torch.Tensor:
    """``loss`` if it is a 0-d tensor (the one rule for every helper), else ``ValueError``."""
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        is_tensor = isinstance(loss, torch.Tensor)
        got = f"shape {tuple(loss.shape)}" if is_tensor else type(loss).__name__
        hint = " (a per-row loss, reduction='none'?)" if is_tensor and loss.numel() > 1 else ""
        raise ValueError(
            f"loss_fn must return a 0-d tensor (one number), got {got}{hint}; use a mean or "
            "sum reduction (e.g. nn.MSELoss(), or .mean() at the end of your own loss)"
        )
    return loss


def device_of(net: torch.nn.Module) -> torch.device:
    """The device of ``net``'s first parameter (the CPU for a net without parameters)."""
    first = next(net.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``t`` on ``device`` (the device rule of this module; tests replace it with a spy)."""
    return t.to(device)


_CLASS_INDEX_LOSSES = (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss)


def _check_targets(loss_fn: object, y: torch.Tensor) -> None:
    """Float targets, or integer class indices for a class-index loss (CrossEntropyLoss)."""
    if y.is_floating_point():
        return
    if isinstance(loss_fn, _CLASS_INDEX_LOSSES) or not isinstance(loss_fn, torch.nn.Module):
        if y.dtype != torch.int64 or y.ndim != 1:
            raise TypeError(
                f"y must hold class indices as int64 of shape (n,) for "
                f"{type(loss_fn).__name__}, got {y.dtype} of shape {tuple(y.shape)}; "
                "use y.long().reshape(-1)"
            )
        return
    raise TypeError(
        f"y must have a floating dtype for {type(loss_fn).__name__}, got {y.dtype}; use "
        "y.float() (only class-index losses such as nn.CrossEntropyLoss take int64 classes)"
    )


def _check_output(yhat: torch.Tensor, y: torch.Tensor, where: str = "net(X)") -> None:
    """``yhat`` shaped like ``y``, or ``(n, k)`` scores for ``n`` integer classes."""
    if y.is_floating_point() and yhat.shape == y.shape:
        return
    if not y.is_floating_point() and yhat.ndim == 2 and yhat.shape[0] == y.shape[0]:
        return
    want = f"({y.shape[0]}, k) class scores" if not y.is_floating_point() else "y's shape"
    raise ValueError(
        f"{where} has shape {tuple(yhat.shape)} but y has shape {tuple(y.shape)}; "
        f"{where} must have {want}"
        + (" (reshape y to (n, 1) for a single output)" if y.is_floating_point() else "")
    )


def _buffers(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.named_buffers()}


def _restore_buffers(net: torch.nn.Module, saved: dict[str, torch.Tensor]) -> None:
    """Put back buffers (BatchNorm's statistics) that a recording-only pass changed."""
    with torch.no_grad():
        for k, v in net.named_buffers():
            v.copy_(saved[k])


def fit(
    net: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    record_every: int = 1,
    record_yhat: bool = True,
) -> History:
    """Full-batch training of ``net`` for ``epochs`` updates, recording as it goes.

    Every update is one forward pass in ``net``'s own mode; the last record's forward
    pass (no update follows it) leaves buffers such as BatchNorm's statistics as the
    updates left them. Data goes to ``net``'s device (see the module's device rule).

    Args:
        net: the model; ``net(X)`` must have the shape of ``y`` (or ``(n, k)`` class
            scores for integer classes ``y``).
        loss_fn: called as ``loss_fn(yhat, y)`` (PyTorch's order), returns a 0-d tensor.
        optimizer: built on ``net.parameters()``.
        X: inputs, shape ``(n, d)``.
        y: targets, floating, shape ``(n, 1)`` (or whatever ``net(X)`` returns); or class
            indices, int64 of shape ``(n,)``, for ``nn.CrossEntropyLoss``/``nn.NLLLoss``.
        epochs: number of updates, ``>= 1``.
        record_every: record every ``record_every`` updates (the first and last
            states are always recorded).
        record_yhat: set ``False`` to skip storing predictions (large data sets).

    Returns:
        A :class:`History`; ``diverged`` is set if a loss was ``nan``/``inf``.
    """
    _check_net_and_optimizer(net, loss_fn, optimizer)
    check_tensor(X, "X", ndim=2)
    check_tensor(y, "y")
    _check_targets(loss_fn, y)
    check_matching_rows(X, y)
    epochs = check_int(epochs, "epochs", minimum=1)
    record_every = check_int(record_every, "record_every", minimum=1)
    if not isinstance(record_yhat, bool):
        raise TypeError(f"record_yhat must be a bool, got {type(record_yhat).__name__}")
    device = device_of(net)
    X, y = to_device(X, device), to_device(y, device)

    lr = optimizer.param_groups[0].get("lr") if optimizer.param_groups else None
    history = History(lr=float(lr) if lr is not None else None)
    empty = torch.empty(0)
    for epoch in range(epochs + 1):
        saved = _buffers(net)
        yhat = net(X)
        _check_output(yhat, y)
        loss = _scalar_loss(loss_fn(yhat, y))
        value = float(loss.detach())
        finite = math.isfinite(value)
        if not finite or _record_due(epoch, epochs, record_every):
            history.record(
                epoch, value, yhat if record_yhat else empty, dict(net.named_parameters())
            )
        if not finite or epoch == epochs:  # no update follows this forward pass
            _restore_buffers(net, saved)
            history.diverged = not finite
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return history


def gradient_descent(
    W: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    epochs: int,
    loss: LossLike = "sse",
    record_every: int = 1,
) -> History:
    """Plain gradient descent for the linear model ``yhat = X @ W``.

    Each update computes ``loss(yhat, y)``, calls ``backward()`` and sets
    ``W <- W - lr * W.grad``; ``W`` itself is not modified (a copy is trained).

    Args:
        W: starting parameters, shape ``(p,)``, floating point.
        X: design matrix, shape ``(n, p)`` (a column of ones for the intercept).
        y: targets, shape ``(n,)``.
        lr: learning rate ``alpha > 0``.
        epochs: number of updates, ``>= 1``.
        loss: ``"sse"``, ``"mse"`` or a callable ``loss(yhat, y)``.
        record_every: record every ``record_every`` updates (plus first and last).

    Returns:
        A :class:`History` whose params are ``{"W": tensor of shape (p,)}``.
    """
    check_tensor(W, "W", ndim=1, floating=True)
    check_tensor(X, "X", ndim=2, floating=True)
    check_tensor(y, "y", ndim=1, floating=True)
    check_matching_rows(X, y)
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"X has {X.shape[1]} columns but W has {W.shape[0]} entries; X @ W needs them equal"
        )
    if X.dtype != W.dtype:
        raise TypeError(f"X and W must have the same dtype for X @ W, got {X.dtype} and {W.dtype}")
    lr = check_lr(lr)
    epochs = check_int(epochs, "epochs", minimum=1)
    record_every = check_int(record_every, "record_every", minimum=1)
    loss_fn = resolve_loss(loss)

    What = W.detach().clone().requires_grad_(True)
    history = History(lr=float(lr))
    for epoch in range(epochs + 1):
        yhat = X @ What
        value_t = _scalar_loss(loss_fn(yhat, y))
        value = float(value_t.detach())
        finite = math.isfinite(value)
        if not finite or _record_due(epoch, epochs, record_every):
            history.record(epoch, value, yhat, {"W": What})
        if not finite:
            history.diverged = True
            break
        if epoch == epochs:
            break
        value_t.backward()
        with torch.no_grad():
            What -= lr * What.grad
        What.grad = None
    return history


# ---------------------------------------------------------------- mini-batch training


@dataclass
class EpochLog:
    """What a mini-batch run recorded, once per epoch.

    Attributes:
        epoch: ``[0, 1, ..., epochs]``; record 0 is the untrained net.
        updates: optimizer steps done by each record (epochs x batches per epoch).
        metrics: ``{name: one value per record}``: ``"<set>_loss"`` (and
            ``"<set>_acc"`` with ``accuracy=True``) for every evaluated data set,
            measured in ``net.eval()`` mode, plus ``"batch_loss"``: the mean loss of
            the mini-batches of that epoch, in ``net.train()`` mode (nan for epoch 0).
        diverged: ``True`` when a non-finite batch loss stopped the run early.
        seconds: wall-clock time spent in training steps, per epoch (0.0 for epoch 0).
    """

    epoch: list[int] = field(default_factory=list)
    updates: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    diverged: bool = False
    seconds: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.epoch)

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.metrics:
            raise KeyError(f"no metric {name!r}; recorded: {sorted(self.metrics)}")
        return self.metrics[name]


def _evaluate(net, loss_fn, X, y, with_accuracy: bool) -> dict[str, float]:
    """Loss (and accuracy) of ``net`` on ``(X, y)``, without gradients, on ``net``'s device."""
    from dlbasics.metrics import accuracy

    device = device_of(net)
    with torch.no_grad():
        yhat = net(to_device(X, device))
        out = {"loss": float(_scalar_loss(loss_fn(yhat, to_device(y, device))))}
        if with_accuracy:
            probabilities = isinstance(loss_fn, torch.nn.BCELoss)
            out["acc"] = accuracy(yhat.cpu(), y.cpu(), logits=not probabilities)
    return out


def _check_loader(loader: object) -> None:
    """A re-iterable of batches: a one-shot iterator would be empty from epoch 2 on."""
    if not hasattr(loader, "__iter__") or isinstance(loader, torch.Tensor):
        raise TypeError(
            f"loader must be an iterable of (X, y) batches such as a DataLoader, "
            f"got {type(loader).__name__}"
        )
    # Checked by type, not by calling iter(loader): a shuffling DataLoader's iter() draws a
    # seed from the global random generator, which would change the batches that follow.
    if isinstance(loader, Iterator):
        raise TypeError(
            "loader must be re-iterable (a DataLoader or a list of (X, y) batches), got a "
            f"one-shot iterator ({type(loader).__name__}) that would be empty after the "
            "first epoch; wrap it as list(...)"
        )


def _check_evaluate(evaluate: object) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    if evaluate is not None and not isinstance(evaluate, dict):
        raise TypeError(f"evaluate must be a dict {{name: (X, y)}}, got {type(evaluate).__name__}")
    sets = dict(evaluate or {})
    for name, pair in sets.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"evaluate[{name!r}] must be a pair (X, y), got {type(pair).__name__}")
        check_tensor(pair[0], f"evaluate[{name!r}] X")
        check_tensor(pair[1], f"evaluate[{name!r}] y")
        check_matching_rows(pair[0], pair[1], f"evaluate[{name!r}] X", f"evaluate[{name!r}] y")
    return sets


def _train_epoch(net, loss_fn, optimizer, loader) -> tuple[int, float, bool]:
    """One pass over ``loader`` in train mode: ``(updates, mean batch loss, diverged)``."""
    device = device_of(net)
    net.train()
    updates, total, count = 0, 0.0, 0
    for batch in loader:
        Xb, yb = (to_device(t, device) for t in batch)
        loss = _scalar_loss(loss_fn(net(Xb), yb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        updates += 1
        value = float(loss.detach())
        total += value * len(Xb)
        count += len(Xb)
        if not math.isfinite(value):
            return updates, total / count, True
    if count == 0:
        raise ValueError("loader must yield at least one batch, got none")
    return updates, total / count, False


def fit_epochs(
    net: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    loader,
    epochs: int,
    *,
    evaluate: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
    accuracy: bool = False,
) -> EpochLog:
    """Train ``net`` for ``epochs`` passes over ``loader``, recording metrics per epoch.

    Each batch does the four steps: forward, loss, backward, step (after
    ``zero_grad``) in ``net.train()`` mode; each evaluation runs in ``net.eval()``
    mode; at the end ``net`` is back in the mode it was in. Batches and evaluated
    sets go to ``net``'s device (the module's device rule).

    Args:
        net: the model; ``net(Xb)`` is compared with ``yb`` by ``loss_fn``.
        loss_fn: called as ``loss_fn(yhat, y)``; returns a 0-d tensor.
        optimizer: built on ``net.parameters()``.
        loader: a re-iterable of ``(Xb, yb)`` batches (a ``DataLoader`` or a list),
            iterated once per epoch; a one-shot iterator such as ``zip(...)`` is a
            ``TypeError`` (it would be empty from the second epoch on).
        epochs: number of passes, ``>= 1``.
        evaluate: ``{name: (X, y)}`` data sets scored after every epoch in eval mode
            (e.g. ``{"train": (X, y), "test": (XX, yy)}``).
        accuracy: also record ``"<name>_acc"`` (see :func:`dlbasics.metrics.accuracy`;
            one-column outputs are read as probabilities for ``nn.BCELoss``, else as
            logits).

    Returns:
        An :class:`EpochLog`.
    """
    _check_net_and_optimizer(net, loss_fn, optimizer)
    _check_loader(loader)
    epochs = check_int(epochs, "epochs", minimum=1)
    if not isinstance(accuracy, bool):
        raise TypeError(f"accuracy must be a bool, got {type(accuracy).__name__}")
    sets = _check_evaluate(evaluate)
    log = EpochLog()

    def record(epoch: int, updates: int, batch_loss: float, seconds: float) -> None:
        log.epoch.append(epoch)
        log.updates.append(updates)
        log.seconds.append(seconds)
        log.metrics.setdefault("batch_loss", []).append(batch_loss)
        net.eval()
        for name, (X, y) in sets.items():
            for key, value in _evaluate(net, loss_fn, X, y, accuracy).items():
                log.metrics.setdefault(f"{name}_{key}", []).append(value)

    was_training = net.training
    try:
        record(0, 0, math.nan, 0.0)
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            done, batch_loss, log.diverged = _train_epoch(net, loss_fn, optimizer, loader)
            record(epoch, log.updates[-1] + done, batch_loss, time.perf_counter() - start)
            if log.diverged:
                break
    finally:
        net.train(was_training)
    return log


# ------------------------------------------------------------------- replaying a record


def replay(
    history: History,
    net: torch.nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> History:
    """Evaluate every recorded state of a run on (new) data, in eval mode.

    Record ``k`` of the result holds ``net``'s predictions at ``X`` with the
    parameters of ``history.params[k]`` and the loss ``loss_fn(yhat, y)`` (a 0-d
    tensor; data goes to ``net``'s device, records stay on the CPU), computed
    with ``net.eval()`` (dropout off) and without gradients. ``net`` itself is left
    as it was (parameters and train/eval mode). Buffers are not recorded by
    :func:`fit`, so a net with buffers (batch norm) is replayed with its current ones.

    Args:
        history: a run of ``net`` from :func:`fit` (records parameter snapshots).
        net: the trained module, with the same parameter names as the records.
        X: inputs, shape ``(m, d)``.
        y: targets, shaped like ``net(X)``.
        loss_fn: called as ``loss_fn(yhat, y)``, returns a scalar.

    Returns:
        A :class:`History` with the same ``epoch``, ``params``, ``lr`` and ``diverged``.
    """
    if not isinstance(history, History):
        raise TypeError(f"history must be a dlbasics.train.History, got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError("history is empty: nothing was recorded")
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    check_tensor(X, "X", ndim=2)
    check_tensor(y, "y")
    check_matching_rows(X, y)
    device = device_of(net)
    X, y = to_device(X, device), to_device(y, device)
    names = [name for name, _ in net.named_parameters()]
    if sorted(history.params[0]) != sorted(names):
        raise ValueError(
            f"history records the parameters {list(history.params[0])} but net has {names}; "
            "replay a run with the net it trained"
        )
    out = History(diverged=history.diverged, lr=history.lr)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for epoch, params in zip(history.epoch, history.params, strict=True):
                on_device = {k: to_device(v, device) for k, v in params.items()}
                yhat = torch.func.functional_call(net, on_device, (X,))
                _check_output(yhat, y)
                out.record(epoch, float(_scalar_loss(loss_fn(yhat, y))), yhat, params)
    finally:
        net.train(was_training)
    return out
