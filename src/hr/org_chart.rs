//! The reporting tree: everyone under the person they report to, from the top of the company or
//! from one person down.
//!
//! The manager column is data, not a promise of a tree: a loop can be planted directly in the
//! database (the forms refuse one), and a manager can leave or disappear. So the tree is built
//! here, in one pass with an explicit visited set and an explicit stack — never by following
//! managers recursively — and everyone is placed exactly once:
//! - people with no manager, or whose manager left or no longer exists, start trees of their own;
//! - people in a loop that no such tree reaches start one more tree each loop, marked as looping.
//!
//! Leavers are not drawn at all: the chart is who works here. Their reports start a tree of
//! their own that names them.
//!
//! A company of 20 000 drawn whole is a page of megabytes, so a page shows a chart folded
//! ([`OrgChart::folded`]): the first levels open, and each person below them with their team
//! size, which is why sizes are counted on the whole tree before it is cut.

use std::collections::HashMap;

use sqlx::{AnyConnection, FromRow};

use super::EmployeeStatus;
use crate::ids::EmployeeId;
use crate::text::{fold, like_pattern};

/// Where a person sits in the company: all the tree needs, for everyone. Names, titles and
/// departments are read only for the people a page shows ([`OrgMember::some`]), which keeps a
/// company of 20 000 to one narrow query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLine {
    pub id: EmployeeId,
    pub manager_id: Option<EmployeeId>,
    /// Has left the company: not drawn, and nobody's manager in the chart.
    pub left: bool,
}

#[derive(FromRow)]
struct OrgLineRow {
    id: EmployeeId,
    manager_id: Option<EmployeeId>,
    gone: i64,
}

impl OrgLine {
    /// Everyone, in the order colleagues are listed under their manager (by name).
    pub async fn all(conn: &mut AnyConnection) -> Result<Vec<OrgLine>, sqlx::Error> {
        let rows: Vec<OrgLineRow> = sqlx::query_as(
            "SELECT id, manager_id, \
                    CAST(CASE WHEN status = 'terminated' THEN 1 ELSE 0 END AS BIGINT) AS gone \
             FROM employees ORDER BY name_key, id",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| OrgLine {
                id: row.id,
                manager_id: row.manager_id,
                left: row.gone != 0,
            })
            .collect())
    }
}

/// A person as the chart shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgMember {
    pub id: EmployeeId,
    pub name: String,
    pub title: String,
    pub department: String,
    pub manager_id: Option<EmployeeId>,
    pub status: EmployeeStatus,
}

#[derive(FromRow)]
struct OrgMemberRow {
    id: EmployeeId,
    name: String,
    title: String,
    department: String,
    manager_id: Option<EmployeeId>,
    status: String,
}

/// Ids per statement when reading people by id: well under either engine's bind limit.
const IDS_PER_QUERY: usize = 500;

impl OrgMember {
    /// The people with these ids (those that exist), by id.
    pub async fn some(
        conn: &mut AnyConnection,
        ids: &[EmployeeId],
    ) -> Result<HashMap<EmployeeId, OrgMember>, sqlx::Error> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT e.id, e.name, e.title, d.name AS department, e.manager_id, e.status \
                 FROM employees e JOIN departments d ON d.id = e.department_id \
                 WHERE e.id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, OrgMemberRow>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let status = EmployeeStatus::parse(&row.status).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown stored status {:?}", row.status).into())
                })?;
                found.insert(
                    row.id,
                    OrgMember {
                        id: row.id,
                        name: row.name,
                        title: row.title,
                        department: row.department,
                        manager_id: row.manager_id,
                        status,
                    },
                );
            }
        }
        Ok(found)
    }

    /// The people in the chart (leavers are not) whose name contains `term`, folded like every
    /// search, in name order. When exactly one of them is called `term` outright, only they
    /// are returned: typing a whole name jumps to that person even when it is part of others.
    pub async fn named(
        conn: &mut AnyConnection,
        term: &str,
    ) -> Result<Vec<EmployeeId>, sqlx::Error> {
        let found: Vec<(EmployeeId, String)> = sqlx::query_as(
            "SELECT id, name_key FROM employees \
             WHERE status <> 'terminated' AND name_key LIKE $1 ESCAPE '\\' \
             ORDER BY name_key, id",
        )
        .bind(like_pattern(term))
        .fetch_all(&mut *conn)
        .await?;
        let whole = fold(term);
        let exact: Vec<EmployeeId> = found
            .iter()
            .filter(|(_, key)| *key == whole)
            .map(|(id, _)| *id)
            .collect();
        Ok(if exact.len() == 1 {
            exact
        } else {
            found.into_iter().map(|(id, _)| id).collect()
        })
    }
}

/// Why someone starts a tree of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeStart {
    /// Reports to nobody: the top of the company.
    Top,
    /// The person the chart was asked to start at.
    Chosen,
    /// Their manager has left the company (this one).
    ManagerLeft(EmployeeId),
    /// Their manager's record no longer exists.
    ManagerGone,
    /// Their reporting line goes round in a loop that no other tree reaches.
    Loop,
}

/// One person in the chart, in the order a page draws them (each before their reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartEntry {
    pub id: EmployeeId,
    pub manager_id: Option<EmployeeId>,
    /// 0 for the start of a tree.
    pub depth: usize,
    /// How many reports are drawn under this person (the entries that follow, one level down).
    pub reports: usize,
    /// Everyone below this person in the chart, drawn or folded away.
    pub team: usize,
    /// Their team is not drawn here (the chart was folded at their level).
    pub folded: bool,
    /// How many enclosing teams end after this person (a leaf's `depth` minus the next entry's).
    pub closes: usize,
    /// Set for the first person of each tree.
    pub start: Option<TreeStart>,
}

/// The chart as a flat list of entries in drawing order: a page nests them by `reports` and
/// `closes` without recursing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgChart {
    pub entries: Vec<ChartEntry>,
}

/// The members and who reports to whom, by position in `members`.
struct Reporting<'a> {
    members: &'a [OrgLine],
    by_id: HashMap<EmployeeId, usize>,
    /// Each member's reports in `members` order (by name); only managers who are still here
    /// have any.
    reports: Vec<Vec<usize>>,
}

impl<'a> Reporting<'a> {
    fn new(members: &'a [OrgLine]) -> Reporting<'a> {
        let by_id: HashMap<EmployeeId, usize> = members
            .iter()
            .enumerate()
            .map(|(at, m)| (m.id, at))
            .collect();
        let mut reports = vec![Vec::new(); members.len()];
        for (at, member) in members.iter().enumerate() {
            if member.left {
                continue;
            }
            if let Some(manager) = member.manager_id.and_then(|id| by_id.get(&id)) {
                if !members[*manager].left && *manager != at {
                    reports[*manager].push(at);
                }
            }
        }
        Reporting {
            members,
            by_id,
            reports,
        }
    }

    /// Why `at` starts a tree when the chart is drawn from the top, or `None` when they are
    /// drawn under their manager.
    fn start_of(&self, at: usize) -> Option<TreeStart> {
        let Some(manager_id) = self.members[at].manager_id else {
            return Some(TreeStart::Top);
        };
        match self.by_id.get(&manager_id) {
            None => Some(TreeStart::ManagerGone),
            Some(manager) if self.members[*manager].left => {
                Some(TreeStart::ManagerLeft(manager_id))
            }
            Some(_) => None,
        }
    }

    /// A member of the loop above `from`, which reaches no tree start: `from`'s managers, all
    /// unplaced, go round sooner or later. The first of the loop by name, so the chart is stable.
    fn loop_above(&self, from: usize) -> usize {
        let mut seen = vec![false; self.members.len()];
        let mut at = from;
        while !seen[at] {
            seen[at] = true;
            at = self.manager_of(at).unwrap_or(at);
        }
        // `at` is on the loop; walk it once more to find its first member by position.
        let mut first = at;
        let mut next = self.manager_of(at).unwrap_or(at);
        while next != at {
            first = first.min(next);
            next = self.manager_of(next).unwrap_or(at);
        }
        first
    }

    fn manager_of(&self, at: usize) -> Option<usize> {
        self.members[at]
            .manager_id
            .and_then(|id| self.by_id.get(&id).copied())
    }
}

/// Builds the entries of one tree per start, placing each member at most once.
struct Drawing<'a> {
    reporting: Reporting<'a>,
    placed: Vec<bool>,
    entries: Vec<ChartEntry>,
}

impl Drawing<'_> {
    /// Draws `start` and everyone below them not drawn yet, depth first, with an explicit stack.
    fn tree(&mut self, start: usize, why: TreeStart) {
        self.placed[start] = true;
        let mut stack = vec![(start, 0usize)];
        let mut first = Some(why);
        while let Some((at, depth)) = stack.pop() {
            let reports: Vec<usize> = self.reporting.reports[at]
                .iter()
                .copied()
                .filter(|r| !self.placed[*r])
                .collect();
            for report in &reports {
                // Placed when queued: the one edge that could reach them again closes a loop.
                self.placed[*report] = true;
            }
            // Reversed, so the first by name comes off the stack first.
            stack.extend(reports.iter().rev().map(|r| (*r, depth + 1)));
            self.entries.push(ChartEntry {
                id: self.reporting.members[at].id,
                manager_id: self.reporting.members[at].manager_id,
                depth,
                reports: reports.len(),
                team: 0,
                folded: false,
                closes: 0,
                start: first.take(),
            });
        }
    }

    fn finish(mut self) -> OrgChart {
        count_teams(&mut self.entries);
        close_teams(&mut self.entries);
        OrgChart {
            entries: self.entries,
        }
    }
}

/// Sets each entry's `team`: in drawing order a person's team is the run of deeper entries that
/// follows them. One pass with a stack of the people whose run has not ended yet.
fn count_teams(entries: &mut [ChartEntry]) {
    let mut open: Vec<usize> = Vec::new();
    for at in 0..=entries.len() {
        let depth = entries.get(at).map_or(0, |e| e.depth);
        while let Some(&top) = open.last() {
            if at < entries.len() && entries[top].depth < depth {
                break;
            }
            entries[top].team = at - top - 1;
            open.pop();
        }
        if at < entries.len() {
            open.push(at);
        }
    }
}

/// Sets each entry's `closes` from the depths: what the page needs to end its nested lists.
fn close_teams(entries: &mut [ChartEntry]) {
    let depths: Vec<usize> = entries.iter().map(|e| e.depth).collect();
    for (at, entry) in entries.iter_mut().enumerate() {
        entry.closes = 0;
        if entry.reports == 0 {
            let next = depths.get(at + 1).copied().unwrap_or(0);
            entry.closes = entry.depth - next;
        }
    }
}

impl OrgChart {
    /// Everyone: the trees from the top, then one tree per loop nobody else reaches.
    pub fn whole(members: &[OrgLine]) -> OrgChart {
        let mut drawing = Drawing {
            reporting: Reporting::new(members),
            placed: vec![false; members.len()],
            entries: Vec::new(),
        };
        for (at, member) in members.iter().enumerate() {
            if member.left {
                continue;
            }
            if let Some(why) = drawing.reporting.start_of(at) {
                drawing.tree(at, why);
            }
        }
        for (at, member) in members.iter().enumerate() {
            if !drawing.placed[at] && !member.left {
                let start = drawing.reporting.loop_above(at);
                drawing.tree(start, TreeStart::Loop);
            }
        }
        drawing.finish()
    }

    /// `root` and everyone below them; `None` when nobody here has that id (leavers included:
    /// they are not in the chart).
    pub fn below(members: &[OrgLine], root: EmployeeId) -> Option<OrgChart> {
        let mut drawing = Drawing {
            reporting: Reporting::new(members),
            placed: vec![false; members.len()],
            entries: Vec::new(),
        };
        let start = *drawing.reporting.by_id.get(&root)?;
        if members[start].left {
            return None;
        }
        drawing.tree(start, TreeStart::Chosen);
        Some(drawing.finish())
    }

    /// The chart with the teams of everyone at depth `open` folded away: those people stay,
    /// with their team size, and nobody deeper is drawn. Levels 0 to `open - 1` are open.
    pub fn folded(mut self, open: usize) -> OrgChart {
        self.entries.retain(|e| e.depth <= open);
        for entry in &mut self.entries {
            if entry.depth == open && entry.team > 0 {
                entry.folded = true;
                entry.reports = 0;
            }
        }
        close_teams(&mut self.entries);
        self
    }

    /// How many people the chart has, drawn or folded away.
    pub fn people(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.depth == 0)
            .map(|e| 1 + e.team)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Members in id order (standing for name order), each with an optional manager.
    fn members(managers: &[(i64, Option<i64>)]) -> Vec<OrgLine> {
        managers
            .iter()
            .map(|(id, manager)| OrgLine {
                id: EmployeeId(*id),
                manager_id: manager.map(EmployeeId),
                left: false,
            })
            .collect()
    }

    fn ids(chart: &OrgChart) -> Vec<(i64, usize)> {
        chart.entries.iter().map(|e| (e.id.0, e.depth)).collect()
    }

    /// Every opened team is closed exactly once: what the page nests is well formed.
    fn assert_balanced(chart: &OrgChart) {
        let opened = chart.entries.iter().filter(|e| e.reports > 0).count();
        let closed: usize = chart.entries.iter().map(|e| e.closes).sum();
        assert_eq!(opened, closed, "{chart:#?}");
    }

    #[test]
    fn a_company_is_drawn_top_down_with_colleagues_by_name() {
        let company = members(&[(1, None), (2, Some(1)), (3, Some(1)), (4, Some(2))]);
        let chart = OrgChart::whole(&company);
        assert_eq!(ids(&chart), [(1, 0), (2, 1), (4, 2), (3, 1)]);
        assert_eq!(chart.entries[0].start, Some(TreeStart::Top));
        assert_eq!(chart.entries[0].reports, 2);
        assert_eq!(chart.entries[2].closes, 1, "p4 ends p2's team");
        assert_eq!(chart.entries[3].closes, 1, "p3 ends p1's team");
        assert_balanced(&chart);
    }

    #[test]
    fn a_loop_is_drawn_once_as_a_tree_of_its_own() {
        // 2 → 3 → 4 → 2, with 5 hanging below the loop; 1 is the real top.
        let company = members(&[
            (1, None),
            (2, Some(4)),
            (3, Some(2)),
            (4, Some(3)),
            (5, Some(3)),
        ]);
        let chart = OrgChart::whole(&company);
        assert_eq!(chart.people(), 5);
        assert_eq!(ids(&chart), [(1, 0), (2, 0), (3, 1), (4, 2), (5, 2)]);
        assert_eq!(chart.entries[1].start, Some(TreeStart::Loop));
        assert_balanced(&chart);
    }

    #[test]
    fn someone_who_is_their_own_manager_is_a_loop_of_one() {
        let chart = OrgChart::whole(&members(&[(7, Some(7))]));
        assert_eq!(ids(&chart), [(7, 0)]);
        assert_eq!(chart.entries[0].start, Some(TreeStart::Loop));
        assert_eq!(chart.entries[0].reports, 0);
        assert_balanced(&chart);
    }

    #[test]
    fn a_leaver_is_left_out_and_their_team_starts_its_own_tree() {
        let mut company = members(&[(1, None), (2, Some(1)), (3, Some(2)), (4, Some(99))]);
        company[1].left = true;
        let chart = OrgChart::whole(&company);
        assert_eq!(ids(&chart), [(1, 0), (3, 0), (4, 0)]);
        assert_eq!(chart.entries[0].reports, 0, "p2 is not drawn under p1");
        assert_eq!(
            chart.entries[1].start,
            Some(TreeStart::ManagerLeft(EmployeeId(2)))
        );
        assert_eq!(chart.entries[2].start, Some(TreeStart::ManagerGone));
        assert_balanced(&chart);
        assert_eq!(OrgChart::below(&company, EmployeeId(2)), None);
    }

    /// 1 → 2 → 3 → 4, and 5 under 1; a second tree 6 → 7.
    fn two_trees_of_seven() -> Vec<OrgLine> {
        members(&[
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(3)),
            (5, Some(1)),
            (6, None),
            (7, Some(6)),
        ])
    }

    #[test]
    fn team_sizes_count_everyone_below() {
        let company = two_trees_of_seven();
        let chart = OrgChart::whole(&company);
        let teams: Vec<(i64, usize)> = chart.entries.iter().map(|e| (e.id.0, e.team)).collect();
        assert_eq!(
            teams,
            [(1, 4), (2, 2), (3, 1), (4, 0), (5, 0), (6, 1), (7, 0)]
        );
        assert_eq!(chart.people(), 7);
    }

    #[test]
    fn a_folded_chart_keeps_the_open_levels_and_the_team_sizes_below() {
        let company = two_trees_of_seven();
        let chart = OrgChart::whole(&company).folded(1);
        assert_eq!(ids(&chart), [(1, 0), (2, 1), (5, 1), (6, 0), (7, 1)]);
        let two = &chart.entries[1];
        assert!(two.folded && two.reports == 0 && two.team == 2);
        assert!(!chart.entries[2].folded, "nobody below p5: nothing to open");
        assert_eq!(chart.people(), 7, "folded people still count");
        assert_balanced(&chart);
    }

    #[test]
    fn a_chart_below_someone_in_a_loop_stops_where_it_began() {
        let company = members(&[(1, Some(2)), (2, Some(1)), (3, Some(2))]);
        let chart = OrgChart::below(&company, EmployeeId(2)).unwrap();
        assert_eq!(ids(&chart), [(2, 0), (1, 1), (3, 1)]);
        assert_eq!(chart.entries[0].start, Some(TreeStart::Chosen));
        assert_balanced(&chart);
        assert_eq!(OrgChart::below(&company, EmployeeId(9)), None);
    }

    #[test]
    fn a_long_chain_is_drawn_without_recursion() {
        let chain: Vec<(i64, Option<i64>)> = (1..=50_000)
            .map(|id| (id, (id > 1).then(|| id - 1)))
            .collect();
        let chart = OrgChart::whole(&members(&chain));
        assert_eq!(chart.people(), 50_000);
        assert_eq!(chart.entries.last().unwrap().closes, 49_999);
    }
}
