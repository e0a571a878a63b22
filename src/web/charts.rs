//! The dashboard's two charts, drawn on the server as inline SVG: no script, nothing for the CSP
//! to allow, and a `<title>`/`<desc>` pair that gives screen readers every number. This module
//! only works out geometry and words; the template draws the shapes and the stylesheet colours
//! them (so the dark theme and print need no second drawing).

use chrono::NaiveDate;
use serde::Serialize;

use crate::hr::{DepartmentHeadcount, MonthFlow};
use crate::ids::DepartmentId;

/// Longest department name drawn in full; longer ones are cut with "…" (the full name stays in
/// the bar's `<title>` and in the chart's description).
const LABEL_CHARS: usize = 18;

/// The headcount bars: labels on the left, bars to their right, the count after each bar.
#[derive(Debug, Serialize)]
pub struct HeadcountChart {
    pub width: i64,
    pub height: i64,
    pub label_x: i64,
    pub bar_x: i64,
    pub bar_height: i64,
    pub bars: Vec<HeadcountBar>,
    /// Every department and its count, for `<desc>`.
    pub description: String,
}

#[derive(Debug, Serialize)]
pub struct HeadcountBar {
    pub id: DepartmentId,
    pub name: String,
    /// The name as drawn (cut when long).
    pub label: String,
    pub headcount: i64,
    pub y: i64,
    pub text_y: i64,
    pub width: i64,
    pub value_x: i64,
}

impl HeadcountChart {
    const WIDTH: i64 = 400;
    const ROW: i64 = 24;
    const BAR_HEIGHT: i64 = 16;
    const LABEL_X: i64 = 132;
    const BAR_X: i64 = 140;
    /// Room left for the count after the longest bar.
    const VALUE_ROOM: i64 = 36;

    pub fn new(departments: &[DepartmentHeadcount]) -> HeadcountChart {
        let largest = departments.iter().map(|d| d.headcount).max().unwrap_or(0);
        let longest_bar = Self::WIDTH - Self::BAR_X - Self::VALUE_ROOM;
        let bars = departments
            .iter()
            .zip(0..)
            .map(|(d, row)| {
                // A department with people always shows a sliver, however large the others.
                let width = match d.headcount {
                    0 => 0,
                    n => (n * longest_bar / largest.max(1)).max(2),
                };
                let y = row * Self::ROW + (Self::ROW - Self::BAR_HEIGHT) / 2;
                HeadcountBar {
                    id: d.id,
                    name: d.name.clone(),
                    label: shorten(&d.name, LABEL_CHARS),
                    headcount: d.headcount,
                    y,
                    text_y: y + Self::BAR_HEIGHT - 4,
                    width,
                    value_x: Self::BAR_X + width + 6,
                }
            })
            .collect::<Vec<_>>();
        let description = departments
            .iter()
            .map(|d| format!("{}: {}", d.name, people(d.headcount)))
            .collect::<Vec<_>>()
            .join("; ");
        HeadcountChart {
            width: Self::WIDTH,
            height: (bars.len() as i64 * Self::ROW).max(Self::ROW),
            label_x: Self::LABEL_X,
            bar_x: Self::BAR_X,
            bar_height: Self::BAR_HEIGHT,
            bars,
            description: format!("{description}."),
        }
    }
}

/// Joiners and leavers per month: a pair of columns per month on a shared scale.
#[derive(Debug, Serialize)]
pub struct FlowChart {
    pub width: i64,
    pub height: i64,
    /// Where the columns stand (the zero line) and the top of the scale.
    pub base_y: i64,
    pub top_y: i64,
    pub plot_x: i64,
    /// The value at the top of the scale, and half of it (the middle grid line).
    pub scale_max: i64,
    pub middle_y: i64,
    pub scale_middle: Option<i64>,
    pub months: Vec<FlowMonth>,
    /// Every month in words, for `<desc>`.
    pub description: String,
}

#[derive(Debug, Serialize)]
pub struct FlowMonth {
    /// "Mar" under the columns, "March 2026" in words.
    pub short: String,
    pub long: String,
    pub joined: i64,
    pub left: i64,
    pub joined_x: i64,
    pub joined_y: i64,
    pub joined_height: i64,
    pub left_x: i64,
    pub left_y: i64,
    pub left_height: i64,
    pub label_x: i64,
}

impl FlowChart {
    const WIDTH: i64 = 400;
    const HEIGHT: i64 = 170;
    const PLOT_X: i64 = 28;
    const TOP_Y: i64 = 10;
    const BASE_Y: i64 = 148;
    const COLUMN: i64 = 11;

    pub fn new(months: &[MonthFlow]) -> FlowChart {
        let largest = months
            .iter()
            .map(|m| m.joined.max(m.left))
            .max()
            .unwrap_or(0);
        let scale_max = nice_ceiling(largest);
        let plot_height = Self::BASE_Y - Self::TOP_Y;
        let slot = (Self::WIDTH - Self::PLOT_X) / (months.len() as i64).max(1);
        let height_of = |n: i64| n * plot_height / scale_max;
        let months: Vec<FlowMonth> = months
            .iter()
            .zip(0..)
            .map(|(m, i)| {
                let slot_x = Self::PLOT_X + i * slot;
                let joined_x = slot_x + (slot - 2 * Self::COLUMN - 2) / 2;
                let (joined_height, left_height) = (height_of(m.joined), height_of(m.left));
                FlowMonth {
                    short: m.month.format("%b").to_string(),
                    long: month_name(m.month),
                    joined: m.joined,
                    left: m.left,
                    joined_x,
                    joined_y: Self::BASE_Y - joined_height,
                    joined_height,
                    left_x: joined_x + Self::COLUMN + 2,
                    left_y: Self::BASE_Y - left_height,
                    left_height,
                    label_x: slot_x + slot / 2,
                }
            })
            .collect();
        let description = months
            .iter()
            .map(|m| format!("{}: {} joined, {} left", m.long, m.joined, m.left))
            .collect::<Vec<_>>()
            .join("; ");
        FlowChart {
            width: Self::WIDTH,
            height: Self::HEIGHT,
            base_y: Self::BASE_Y,
            top_y: Self::TOP_Y,
            plot_x: Self::PLOT_X,
            scale_max,
            middle_y: Self::BASE_Y - plot_height / 2,
            scale_middle: (scale_max % 2 == 0).then_some(scale_max / 2),
            months,
            description: format!("{description}."),
        }
    }
}

/// The smallest of 2, 4, 6, 10, 20, 40, 60, 100, … that is at least `n`: round grid values.
fn nice_ceiling(n: i64) -> i64 {
    let mut magnitude = 1;
    loop {
        for step in [2, 4, 6, 10] {
            if n <= step * magnitude {
                return step * magnitude;
            }
        }
        magnitude *= 10;
    }
}

fn month_name(first_day: NaiveDate) -> String {
    first_day.format("%B %Y").to_string()
}

fn people(n: i64) -> String {
    if n == 1 {
        "1 person".to_string()
    } else {
        format!("{n} people")
    }
}

/// `text` cut to `max` characters, the last one an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn department(id: i64, name: &str, headcount: i64) -> DepartmentHeadcount {
        DepartmentHeadcount {
            id: DepartmentId(id),
            name: name.into(),
            headcount,
        }
    }

    #[test]
    fn the_largest_department_gets_the_longest_bar_and_small_ones_stay_visible() {
        let chart = HeadcountChart::new(&[
            department(1, "Engineering", 200),
            department(2, "Legal", 1),
            department(3, "Research and Development Europe", 0),
        ]);
        let widths: Vec<i64> = chart.bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, [224, 2, 0]);
        assert_eq!(chart.bars[2].label, "Research and Deve…");
        assert_eq!(
            chart.description,
            "Engineering: 200 people; Legal: 1 person; Research and Development Europe: 0 people."
        );
    }

    #[test]
    fn the_flow_scale_rounds_up_and_every_month_is_described() {
        let month = |m: u32, joined, left| MonthFlow {
            month: NaiveDate::from_ymd_opt(2026, m, 1).unwrap(),
            joined,
            left,
        };
        let chart = FlowChart::new(&[month(1, 3, 1), month(2, 7, 0)]);
        assert_eq!(chart.scale_max, 10);
        assert_eq!(chart.months[1].joined_height, 7 * (148 - 10) / 10);
        assert_eq!(chart.months[0].short, "Jan");
        assert_eq!(
            chart.description,
            "January 2026: 3 joined, 1 left; February 2026: 7 joined, 0 left."
        );
        assert_eq!(nice_ceiling(0), 2);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(45), 60);
    }
}
