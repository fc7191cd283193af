"""The training loop's extension point: `RunHooks`, called at named phases of a run.

`train(cfg, hooks=...)` takes an object with one method, `on_phase(phase, count)`. The
loop calls it when it reaches each phase of `PHASES`, with `count` the number of times
(from 1) this `train` call has reached that phase:

| phase        | when                                                                  |
|--------------|-----------------------------------------------------------------------|
| `step`       | a train step ran; the step counters and epoch sums are not yet updated |
| `checkpoint` | a checkpoint write starts (the run state to save is already set)      |
| `history`    | the end-of-epoch write of `history.csv` / `history.json` starts       |
| `figures`    | the end-of-epoch write of `loss_curve.png` / `samples.png` starts     |
| `colorizer`  | the end-of-epoch write of `colorizer.keras` starts                    |

`history`, `figures` and `colorizer` come on the run's chief only (the worker that
writes the run folder), after each epoch and again when a resume finds an epoch's files
cut short. A hook runs on the loop's thread: what it does (log, time, stop the process)
happens at that exact point of the run. Subclass `RunHooks` and override what you need.

Example:
    class Log(RunHooks):
        def on_phase(self, phase, count):
            if phase == "checkpoint":
                print(f"checkpoint {count}")

    train(cfg, hooks=Log())
"""

PHASES = ("step", "checkpoint", "history", "figures", "colorizer")


class RunHooks:
    """Base of the hooks `train(hooks=...)` takes; every method does nothing."""

    def on_phase(self, phase, count):
        """The loop reached `phase` (one of `PHASES`) for the `count`-th time in this run."""


class PhaseCalls:
    """Counts the phases one `train` call reaches and passes each to its hooks."""

    def __init__(self, hooks=None):
        self.hooks = hooks if hooks is not None else RunHooks()
        self.counts = dict.fromkeys(PHASES, 0)

    def __call__(self, phase):
        self.counts[phase] += 1
        self.hooks.on_phase(phase, self.counts[phase])


__all__ = ["PHASES", "PhaseCalls", "RunHooks"]
