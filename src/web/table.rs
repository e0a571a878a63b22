//! The links of a table page, one implementation for every listing: sortable column headers,
//! numbered pages and a page-size choice — plain links, so they work without JavaScript. Each
//! link changes one thing (the order, the page, the size) and keeps the rest of the query.
//! The rules they follow are written down in docs/design-rules.md.

use serde::Serialize;

use crate::app::error::AppError;

/// `?page=N` → (page, offset) for `per_page` rows; anything odd means page 1.
pub fn page_window(page: Option<i64>, per_page: i64) -> (i64, i64) {
    let page = page.filter(|p| (1..=1_000_000).contains(p)).unwrap_or(1);
    (page, (page - 1) * per_page)
}

/// Pages linked on each side of the current one (the first and the last are always linked).
const PAGES_AROUND: i64 = 2;

/// The page sizes a listing with a size choice offers; the first is the default.
pub const PAGE_SIZES: [i64; 3] = [25, 50, 100];

/// `?size=N`: absent or empty is the default; anything but one of [`PAGE_SIZES`] is refused
/// with a 400 that says what is allowed (not clamped: a size nobody offered is a hand-made link,
/// and silently showing another size would hide that).
pub fn page_size(raw: Option<&str>) -> Result<i64, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(PAGE_SIZES[0]),
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|size| PAGE_SIZES.contains(size))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "A page shows {}, {} or {} rows.",
                    PAGE_SIZES[0], PAGE_SIZES[1], PAGE_SIZES[2]
                ))
            }),
    }
}

/// Percent-encoded `name=value&` pairs, the form every link appends `page=N` to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryString(String);

impl QueryString {
    /// Adds `name=value`; an empty value is left out (it means "no filter").
    pub fn with(mut self, name: &str, value: &str) -> QueryString {
        if value.is_empty() {
            return self;
        }
        self.0.push_str(name);
        self.0.push('=');
        for byte in value.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    self.0.push(char::from(byte));
                }
                _ => self.0.push_str(&format!("%{byte:02X}")),
            }
        }
        self.0.push('&');
        self
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Links for a paginated table (rendered by the `pagination` macro in macros.html): previous,
/// next, a window of numbered pages and, when the listing offers one, the page-size choice.
#[derive(Debug, Serialize)]
pub struct Pagination {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub prev: Option<i64>,
    pub next: Option<i64>,
    /// The numbered pages linked: the first, the last and those around the current one.
    pub window: Vec<PageLink>,
    /// What every page link keeps (filters, order, size), percent-encoded `name=value&` pairs.
    pub query: String,
    /// The size choice (empty when the listing has a fixed size).
    pub sizes: Vec<SizeLink>,
    /// What a size link keeps: the filters and the order, not the page (a new size starts at 1).
    pub size_query: String,
}

#[derive(Debug, Serialize)]
pub struct PageLink {
    pub number: i64,
    pub current: bool,
    /// Pages are left out between the previous link and this one.
    pub gap_before: bool,
}

#[derive(Debug, Serialize)]
pub struct SizeLink {
    pub size: i64,
    pub current: bool,
}

impl Pagination {
    pub fn new(page: i64, per_page: i64, total: i64) -> Pagination {
        let pages = ((total + per_page - 1) / per_page).max(1);
        Pagination {
            page,
            pages,
            total,
            prev: (page > 1).then(|| page - 1),
            next: (page < pages).then(|| page + 1),
            window: page_links(page, pages),
            query: String::new(),
            sizes: Vec::new(),
            size_query: String::new(),
        }
    }

    /// Keeps the filter `name=value` in every page link (empty values too, for pages whose
    /// handlers tell "empty" from "absent").
    pub fn with_query(mut self, name: &str, value: &str) -> Pagination {
        let kept = QueryString(std::mem::take(&mut self.query)).with(name, value);
        self.query = match value.is_empty() {
            true => format!("{}{name}=&", kept.0),
            false => kept.0,
        };
        self
    }
}

/// The first page, the last, and [`PAGES_AROUND`] on each side of `page`, in order; a page
/// beyond the last (a stale link) still shows where the listing ends.
fn page_links(page: i64, pages: i64) -> Vec<PageLink> {
    let mut numbers: Vec<i64> = (page - PAGES_AROUND..=page + PAGES_AROUND)
        .chain([1, pages])
        .filter(|n| (1..=pages).contains(n))
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut previous = 0;
    numbers
        .into_iter()
        .map(|number| {
            let link = PageLink {
                number,
                current: number == page,
                gap_before: number > previous + 1,
            };
            previous = number;
            link
        })
        .collect()
}

/// A column header: a link that sorts by the column (or reverses the order when it already
/// does), with `aria-sort` on the sorted one. A header without `href` does not sort.
#[derive(Debug, Serialize)]
pub struct SortHeader {
    pub label: &'static str,
    /// The page's path and the link's query (percent-encoded); no query: the column does not sort.
    pub path: &'static str,
    pub query: Option<String>,
    /// `ascending` or `descending` on the sorted column.
    pub aria_sort: Option<&'static str>,
    /// What following the link does, for the link's accessible name ("sort descending").
    pub action: &'static str,
}

/// The state of a table page's links: the path, the filters, the order and the page size. A
/// column header, a page number and a size choice each change one of them and keep the rest.
#[derive(Debug, Clone)]
pub struct TableLinks {
    path: &'static str,
    filters: QueryString,
    sort: &'static str,
    descending: bool,
    size: Option<i64>,
}

impl TableLinks {
    /// A listing at `path` sorted by `sort` (descending or not).
    pub fn new(path: &'static str, sort: &'static str, descending: bool) -> TableLinks {
        TableLinks {
            path,
            filters: QueryString::default(),
            sort,
            descending,
            size: None,
        }
    }

    /// Keeps a filter in every link (an empty value is no filter, and left out).
    pub fn filter(mut self, name: &str, value: &str) -> TableLinks {
        self.filters = self.filters.with(name, value);
        self
    }

    /// Offers the [`PAGE_SIZES`] choice, `size` being the current one.
    pub fn page_size(mut self, size: i64) -> TableLinks {
        self.size = Some(size);
        self
    }

    /// The filters and the order: what an export of the same rows needs.
    pub fn filters_and_order(&self) -> QueryString {
        self.filters
            .clone()
            .with("sort", self.sort)
            .with("dir", if self.descending { "desc" } else { "asc" })
    }

    /// The header of a column sorted by `key`: the sorted column's link reverses the order, any
    /// other sorts by that column ascending; both start again at page 1.
    pub fn header(&self, key: &'static str, label: &'static str) -> SortHeader {
        let sorted = key == self.sort;
        let descending = sorted && !self.descending;
        let mut query = self
            .filters
            .clone()
            .with("sort", key)
            .with("dir", if descending { "desc" } else { "asc" });
        if let Some(size) = self.size {
            query = query.with("size", &size.to_string());
        }
        SortHeader {
            label,
            path: self.path,
            query: Some(query.as_str().trim_end_matches('&').to_string()),
            aria_sort: sorted.then_some(if self.descending {
                "descending"
            } else {
                "ascending"
            }),
            action: if descending {
                "sort descending"
            } else {
                "sort ascending"
            },
        }
    }

    /// The header of a column that does not sort.
    pub fn plain(&self, label: &'static str) -> SortHeader {
        SortHeader {
            label,
            path: self.path,
            query: None,
            aria_sort: None,
            action: "",
        }
    }

    /// The page links for `page` of `total` rows at the current size (or `per_page` when the
    /// listing has no size choice).
    pub fn pagination(&self, page: i64, per_page: i64, total: i64) -> Pagination {
        let per_page = self.size.unwrap_or(per_page);
        let kept = self.filters_and_order();
        let mut pagination = Pagination::new(page, per_page, total);
        pagination.size_query = kept.as_str().to_string();
        pagination.query = match self.size {
            Some(size) => kept.with("size", &size.to_string()).0,
            None => kept.0,
        };
        if let Some(size) = self.size {
            pagination.sizes = PAGE_SIZES
                .into_iter()
                .map(|choice| SizeLink {
                    size: choice,
                    current: choice == size,
                })
                .collect();
        }
        pagination
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(page: i64, pages: i64) -> Vec<(i64, bool)> {
        page_links(page, pages)
            .into_iter()
            .map(|l| (l.number, l.gap_before))
            .collect()
    }

    #[test]
    fn the_window_links_the_ends_and_two_pages_around_the_current_one() {
        assert_eq!(numbers(1, 1), [(1, false)]);
        assert_eq!(
            numbers(1, 8),
            [(1, false), (2, false), (3, false), (8, true)]
        );
        assert_eq!(
            numbers(5, 8),
            [
                (1, false),
                (3, true),
                (4, false),
                (5, false),
                (6, false),
                (7, false),
                (8, false)
            ]
        );
        assert_eq!(numbers(12, 8), [(1, false), (8, true)]);
    }

    #[test]
    fn only_the_offered_page_sizes_are_accepted() {
        assert_eq!(page_size(None).unwrap(), 25);
        assert_eq!(page_size(Some("")).unwrap(), 25);
        assert_eq!(page_size(Some("100")).unwrap(), 100);
        for bad in ["0", "26", "-25", "1000000", "abc"] {
            assert!(page_size(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sorted_headers_link_reverses_the_order_and_others_sort_ascending() {
        let links = TableLinks::new("/x", "name", false)
            .filter("q", "a b")
            .page_size(50);
        let name = links.header("name", "Name");
        assert_eq!(name.aria_sort, Some("ascending"));
        assert_eq!(
            name.query.as_deref(),
            Some("q=a%20b&sort=name&dir=desc&size=50")
        );
        let start = links.header("start", "Started");
        assert_eq!(start.aria_sort, None);
        assert_eq!(
            start.query.as_deref(),
            Some("q=a%20b&sort=start&dir=asc&size=50")
        );
        let pages = links.pagination(1, 25, 120);
        assert_eq!(pages.pages, 3);
        assert_eq!(pages.query, "q=a%20b&sort=name&dir=asc&size=50&");
        assert_eq!(pages.size_query, "q=a%20b&sort=name&dir=asc&");
    }
}
