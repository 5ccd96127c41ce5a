//! When each request is due: a rate curve over the run, pieces of linearly changing rate,
//! integrated so request `i` is due when the curve's running count reaches `i`. The
//! schedule is a pure function of the shape, so every shard of a run computes the same due
//! times and takes its own share of them (`i ≡ index mod count`): shards merged are the
//! whole run, request for request.

use envparity_core::load::Shard;

/// A piece of the curve: the rate moves linearly from `r0` to `r1` over `[t0, t1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Piece {
    t0: f64,
    t1: f64,
    r0: f64,
    r1: f64,
    /// Requests due before `t0`.
    n0: f64,
}

impl Piece {
    fn count(&self) -> f64 {
        (self.r0 + self.r1) / 2.0 * (self.t1 - self.t0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pieces: Vec<Piece>,
    total: u64,
    duration: f64,
    /// The highest rate anywhere on the curve.
    top: f64,
    /// For the result: `constant 300/s`, `ramp 30/s to 300/s`…
    pub description: String,
}

/// How the rate moves over the run, up to the run's top rate.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// The top rate throughout.
    Constant,
    /// From a tenth of the top rate to the top, linearly.
    Ramp,
    /// `n` equal steps: top/n, 2·top/n, … top.
    Steps(u32),
    /// `base` × top, then the top for the middle tenth of the run, then `base` again.
    Spike { base: f64 },
    /// A recorded rate curve (requests per step, any step), stretched or compressed onto
    /// the run's duration and scaled so its busiest step runs at the top rate.
    Replay(Vec<f64>),
}

impl Shape {
    /// `constant`, `ramp`, `steps`, `steps:5`, `spike`, `spike:0.2`, `replay` (which
    /// needs the curve: `curve` is the model's, when a model is given).
    pub fn parse(text: &str, curve: Option<&[f64]>) -> Result<Shape, String> {
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (text, None),
        };
        let number = |default: f64| -> Result<f64, String> {
            match arg {
                None => Ok(default),
                Some(a) => a
                    .parse::<f64>()
                    .map_err(|_| format!("--shape {text}: `{a}` is not a number")),
            }
        };
        match name {
            "constant" => Ok(Shape::Constant),
            "ramp" => Ok(Shape::Ramp),
            "steps" => {
                let n = number(5.0)?;
                if !(1.0..=1000.0).contains(&n) || n.fract() != 0.0 {
                    return Err(format!("--shape {text}: give 1 to 1000 steps"));
                }
                Ok(Shape::Steps(n as u32))
            }
            "spike" => {
                let base = number(0.25)?;
                if !(0.0..1.0).contains(&base) {
                    return Err(format!(
                        "--shape {text}: the base is a fraction of the top rate, from 0 up to 1"
                    ));
                }
                Ok(Shape::Spike { base })
            }
            "replay" => match curve {
                Some(c) if c.iter().any(|x| *x > 0.0) => Ok(Shape::Replay(c.to_vec())),
                Some(_) => Err("--shape replay: the model's rate curve is empty".to_string()),
                None => Err(
                    "--shape replay needs --model (a traffic model with a rate curve)".to_string(),
                ),
            },
            _ => Err(format!(
                "--shape {text}: not a shape (constant, ramp, steps[:N], spike[:BASE], replay)"
            )),
        }
    }
}

impl Schedule {
    /// The shape over `duration` seconds, topping out at `top` requests per second.
    pub fn new(shape: &Shape, top: f64, duration: f64) -> Schedule {
        let d = duration;
        let mut points: Vec<(f64, f64, f64, f64)> = Vec::new(); // t0, t1, r0, r1
        let description = match shape {
            Shape::Constant => {
                points.push((0.0, d, top, top));
                format!("constant {}/s", rate(top))
            }
            Shape::Ramp => {
                points.push((0.0, d, top / 10.0, top));
                format!("ramp {}/s to {}/s", rate(top / 10.0), rate(top))
            }
            Shape::Steps(n) => {
                let n = *n as usize;
                for k in 0..n {
                    let r = top * (k + 1) as f64 / n as f64;
                    points.push((d * k as f64 / n as f64, d * (k + 1) as f64 / n as f64, r, r));
                }
                format!(
                    "{n} steps of {} s up to {}/s",
                    trim(d / n as f64),
                    rate(top)
                )
            }
            Shape::Spike { base } => {
                let low = top * base;
                points.push((0.0, 0.45 * d, low, low));
                points.push((0.45 * d, 0.55 * d, top, top));
                points.push((0.55 * d, d, low, low));
                format!(
                    "spike to {}/s from {}/s for {} s",
                    rate(top),
                    rate(low),
                    trim(0.1 * d)
                )
            }
            Shape::Replay(curve) => {
                let busiest = curve.iter().copied().fold(0.0, f64::max);
                let n = curve.len();
                for (k, c) in curve.iter().enumerate() {
                    let r = top * c / busiest;
                    points.push((d * k as f64 / n as f64, d * (k + 1) as f64 / n as f64, r, r));
                }
                format!(
                    "the model's curve ({n} steps) over {} s, busiest step at {}/s",
                    trim(d),
                    rate(top)
                )
            }
        };
        let mut pieces = Vec::with_capacity(points.len());
        let mut n = 0.0;
        for (t0, t1, r0, r1) in points {
            let piece = Piece {
                t0,
                t1,
                r0,
                r1,
                n0: n,
            };
            n += piece.count();
            pieces.push(piece);
        }
        let top_rate = pieces.iter().map(|p| p.r0.max(p.r1)).fold(0.0, f64::max);
        Schedule {
            pieces,
            total: n.round() as u64,
            duration,
            top: top_rate,
            description,
        }
    }

    /// Requests in the whole run (all shards).
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn duration(&self) -> f64 {
        self.duration
    }

    pub fn top(&self) -> f64 {
        self.top
    }

    /// Seconds after the start at which request `i` (from 0) is due.
    pub fn due(&self, i: u64) -> f64 {
        let target = i as f64;
        // The last piece whose first request is at or before `i`; pieces are few
        // (at most one per curve point), so a binary search per request is cheap.
        let k = self
            .pieces
            .partition_point(|p| p.n0 <= target)
            .saturating_sub(1);
        let p = &self.pieces[k];
        let m = target - p.n0;
        let len = p.t1 - p.t0;
        if p.r0 == p.r1 {
            if p.r0 <= 0.0 {
                return p.t1;
            }
            return p.t0 + m / p.r0;
        }
        // Solve r0·τ + (r1 − r0)/(2·len)·τ² = m for τ, in the form that stays exact when
        // the rate barely changes.
        let a = (p.r1 - p.r0) / (2.0 * len);
        let disc = (p.r0 * p.r0 + 4.0 * a * m).max(0.0);
        let denom = p.r0 + disc.sqrt();
        let tau = if denom > 0.0 { 2.0 * m / denom } else { 0.0 };
        (p.t0 + tau).min(p.t1)
    }

    /// The rate at `t` seconds after the start.
    pub fn rate_at(&self, t: f64) -> f64 {
        let k = self.pieces.partition_point(|p| p.t0 <= t).saturating_sub(1);
        match self.pieces.get(k) {
            Some(p) if t < p.t1 || k + 1 == self.pieces.len() => {
                let f = ((t - p.t0) / (p.t1 - p.t0)).clamp(0.0, 1.0);
                p.r0 + (p.r1 - p.r0) * f
            }
            _ => 0.0,
        }
    }
}

/// Which requests of the whole run one shard sends: every `count`-th, from `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardPlan {
    pub index: u64,
    pub count: u64,
}

impl ShardPlan {
    pub const WHOLE: ShardPlan = ShardPlan { index: 0, count: 1 };

    /// `i/N`, with `i` from 0 (Kubernetes' JOB_COMPLETION_INDEX).
    pub fn parse(text: &str) -> Result<ShardPlan, String> {
        let bad =
            || format!("--shard {text}: give INDEX/COUNT, e.g. 0/4 (INDEX from 0 to COUNT-1)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count || count > 10_000 {
            return Err(bad());
        }
        Ok(ShardPlan { index, count })
    }

    /// How many of `total` requests are this shard's.
    pub fn share_of(&self, total: u64) -> u64 {
        if total <= self.index {
            0
        } else {
            (total - self.index).div_ceil(self.count)
        }
    }

    /// The run-wide index of this shard's `k`-th request.
    pub fn global(&self, k: u64) -> u64 {
        k * self.count + self.index
    }

    pub fn shard(&self) -> Option<Shard> {
        (self.count > 1).then_some(Shard {
            index: self.index as u32,
            count: self.count as u32,
        })
    }
}

fn rate(r: f64) -> String {
    if r >= 100.0 || r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn trim(s: f64) -> String {
    if s.fract().abs() < 1e-9 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let s = Schedule::new(&Shape::Constant, 100.0, 10.0);
        assert_eq!(s.total(), 1000);
        assert_eq!(s.due(0), 0.0);
        assert!((s.due(1) - 0.01).abs() < 1e-12);
        assert!((s.due(999) - 9.99).abs() < 1e-9);
        assert_eq!(s.description, "constant 100/s");
    }

    #[test]
    fn a_ramp_sends_as_many_as_its_area_and_ever_faster() {
        let s = Schedule::new(&Shape::Ramp, 1000.0, 60.0);
        // (100 + 1000) / 2 × 60
        assert_eq!(s.total(), 33_000);
        let gaps: Vec<f64> = (1..s.total()).map(|i| s.due(i) - s.due(i - 1)).collect();
        assert!(gaps.windows(2).all(|w| w[1] <= w[0] + 1e-9), "gaps shrink");
        // Requests due in the first and last second: the rate at each end.
        let in_window = |a: f64, b: f64| {
            (0..s.total())
                .filter(|&i| (a..b).contains(&s.due(i)))
                .count()
        };
        assert!((in_window(0.0, 1.0) as f64 - 107.5).abs() <= 1.0);
        assert!((in_window(59.0, 60.0) as f64 - 992.5).abs() <= 1.0);
        assert!((s.rate_at(30.0) - 550.0).abs() < 1e-9);
    }

    #[test]
    fn steps_and_spikes_hold_each_level() {
        let s = Schedule::new(&Shape::Steps(4), 400.0, 40.0);
        assert_eq!(s.total(), 100 * 10 + 200 * 10 + 300 * 10 + 400 * 10);
        assert_eq!(s.rate_at(5.0), 100.0);
        assert_eq!(s.rate_at(35.0), 400.0);
        let count = |a: f64, b: f64| {
            (0..s.total())
                .filter(|&i| (a..b).contains(&s.due(i)))
                .count()
        };
        assert_eq!(count(10.0, 20.0), 2000);
        let spike = Schedule::new(&Shape::Spike { base: 0.25 }, 400.0, 100.0);
        assert_eq!(spike.rate_at(50.0), 400.0);
        assert_eq!(spike.rate_at(10.0), 100.0);
        assert_eq!(spike.total(), 100 * 90 + 400 * 10);
    }

    #[test]
    fn a_replayed_curve_keeps_its_shape_scaled_to_the_top() {
        // A day in 4 steps, compressed into 20 s; the busiest step runs at 300/s.
        let s = Schedule::new(&Shape::Replay(vec![10.0, 30.0, 0.0, 20.0]), 300.0, 20.0);
        assert_eq!(s.rate_at(1.0), 100.0);
        assert_eq!(s.rate_at(6.0), 300.0);
        assert_eq!(s.rate_at(11.0), 0.0);
        assert_eq!(s.rate_at(16.0), 200.0);
        assert_eq!(s.total(), 500 + 1500 + 1000);
        // Nothing is due in the silent step.
        assert!((0..s.total()).all(|i| !(10.0..15.0).contains(&s.due(i))));
    }

    #[test]
    fn shards_partition_the_run() {
        let total = 10;
        let shards: Vec<ShardPlan> = (0..3)
            .map(|i| ShardPlan::parse(&format!("{i}/3")).unwrap())
            .collect();
        let mut all: Vec<u64> = shards
            .iter()
            .flat_map(|s| (0..s.share_of(total)).map(|k| s.global(k)))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..total).collect::<Vec<_>>());
        assert!(ShardPlan::parse("3/3").is_err());
        assert!(ShardPlan::parse("x").is_err());
    }

    #[test]
    fn shapes_parse_with_their_arguments() {
        assert_eq!(Shape::parse("steps:3", None).unwrap(), Shape::Steps(3));
        assert_eq!(
            Shape::parse("spike:0.1", None).unwrap(),
            Shape::Spike { base: 0.1 }
        );
        assert!(
            Shape::parse("replay", None)
                .unwrap_err()
                .contains("--model")
        );
        assert!(Shape::parse("zigzag", None).is_err());
    }
}
