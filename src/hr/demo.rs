//! A demo company to explore the portal with: Larkspur Analytics, 200 fictional people in eight
//! departments with a reporting hierarchy, generated here and written by `app::demo` with two
//! sign-in accounts linked to employee records.
//!
//! The company is a pure function of a seed and a reference day (`StdRng::seed_from_u64`, one
//! draw order): the same seed gives the same people, titles, managers and locations, and start
//! dates that lie the same number of days before the reference day — so a demo filled today
//! has recent hires and upcoming anniversaries, and a test can pin the day. The account
//! passwords, in contrast, come from the OS generator: a demo database may be reachable by
//! others, and a password derivable from a published seed would be no password at all.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::employee::EmployeeStatus;

/// The seed `hr-portal demo` uses unless told otherwise.
pub const DEMO_SEED: u64 = 20_240_917;

/// The company's (reserved, never deliverable) e-mail domain.
pub const DEMO_DOMAIN: &str = "larkspur.example";

/// The two people who get sign-in accounts: the head of People (an administrator) and an
/// engineer (an ordinary employee).
pub const DEMO_ADMIN_NAME: &str = "Dana Whitfield";
pub const DEMO_EMPLOYEE_NAME: &str = "Sam Okafor";

/// One person of the generated company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEmployee {
    pub name: String,
    pub email: String,
    pub title: String,
    /// Index into [`DemoCompany::departments`].
    pub department: usize,
    /// Index into [`DemoCompany::employees`]; always an earlier entry, so managers are written
    /// before their reports.
    pub manager: Option<usize>,
    pub location: String,
    pub start_date: NaiveDate,
    pub status: EmployeeStatus,
    /// The last day, for those who left.
    pub left_on: Option<NaiveDate>,
}

/// The work phone of the demo company's `index`th person: London numbers from the range Ofcom
/// keeps for drama (020 7946 0000–0999), so no real line is ever dialled. Derived from the index
/// rather than drawn, so the people the seed gives stay the same.
pub fn work_phone(index: usize) -> String {
    format!("+44 20 7946 {:04}", index % 1000)
}

/// The generated company, before it is written anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCompany {
    pub departments: Vec<String>,
    pub employees: Vec<DemoEmployee>,
}

struct DepartmentPlan {
    name: &'static str,
    size: usize,
    head_title: &'static str,
    lead_title: &'static str,
    titles: &'static [&'static str],
}

/// Sizes add up to 200. The first department holds the chief executive, to whom every other
/// department head reports.
const DEPARTMENTS: [DepartmentPlan; 8] = [
    DepartmentPlan {
        name: "Executive",
        size: 4,
        head_title: "Chief Executive Officer",
        lead_title: "",
        titles: &[
            "Chief Operating Officer",
            "Chief of Staff",
            "Executive Assistant",
        ],
    },
    DepartmentPlan {
        name: "Engineering",
        size: 64,
        head_title: "VP of Engineering",
        lead_title: "Engineering Manager",
        titles: &[
            "Software Engineer",
            "Software Engineer",
            "Senior Software Engineer",
            "Senior Software Engineer",
            "Staff Software Engineer",
            "Site Reliability Engineer",
            "QA Engineer",
            "Data Engineer",
            "Security Engineer",
        ],
    },
    DepartmentPlan {
        name: "Product & Design",
        size: 24,
        head_title: "Head of Product",
        lead_title: "Group Product Manager",
        titles: &[
            "Product Manager",
            "Senior Product Manager",
            "Product Designer",
            "Senior Product Designer",
            "UX Researcher",
            "Content Designer",
        ],
    },
    DepartmentPlan {
        name: "Sales",
        size: 32,
        head_title: "VP of Sales",
        lead_title: "Regional Sales Manager",
        titles: &[
            "Account Executive",
            "Account Executive",
            "Senior Account Executive",
            "Sales Development Representative",
            "Solutions Engineer",
            "Sales Operations Analyst",
        ],
    },
    DepartmentPlan {
        name: "Marketing",
        size: 20,
        head_title: "Head of Marketing",
        lead_title: "Marketing Manager",
        titles: &[
            "Content Marketing Manager",
            "Product Marketing Manager",
            "Growth Marketer",
            "Brand Designer",
            "Marketing Operations Specialist",
            "Events Coordinator",
        ],
    },
    DepartmentPlan {
        name: "Customer Success",
        size: 30,
        head_title: "Head of Customer Success",
        lead_title: "Support Team Lead",
        titles: &[
            "Customer Success Manager",
            "Support Specialist",
            "Support Specialist",
            "Senior Support Specialist",
            "Onboarding Specialist",
            "Technical Account Manager",
        ],
    },
    DepartmentPlan {
        name: "Finance",
        size: 13,
        head_title: "Chief Financial Officer",
        lead_title: "Financial Controller",
        titles: &[
            "Accountant",
            "Financial Analyst",
            "Payroll Specialist",
            "Procurement Specialist",
            "Legal Counsel",
        ],
    },
    DepartmentPlan {
        name: "People",
        size: 13,
        head_title: "Head of People",
        lead_title: "People Partner Lead",
        titles: &[
            "People Partner",
            "Recruiter",
            "Senior Recruiter",
            "People Operations Specialist",
            "Learning & Development Specialist",
            "Office Manager",
        ],
    },
];

const ENGINEERING: usize = 1;
const PEOPLE: usize = 7;
/// Reports per team lead, roughly.
const TEAM_SIZE: usize = 8;

const FIRST_NAMES: &[&str] = &[
    "Aisha",
    "Alejandro",
    "Amara",
    "Anders",
    "Aníbal",
    "Anya",
    "Arjun",
    "Astrid",
    "Beatriz",
    "Bilal",
    "Bruno",
    "Camille",
    "Chidi",
    "Chloé",
    "Daniel",
    "Darius",
    "Elif",
    "Elena",
    "Emeka",
    "Emma",
    "Farah",
    "Felix",
    "Fiona",
    "Gabriel",
    "Grace",
    "Hana",
    "Hannah",
    "Hugo",
    "Ibrahim",
    "Ingrid",
    "Isabel",
    "Jakub",
    "Jamal",
    "Jonas",
    "Julia",
    "Kai",
    "Kenji",
    "Khadija",
    "Lars",
    "Leila",
    "Liam",
    "Lucía",
    "Luca",
    "Maya",
    "Mateo",
    "Mei",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Niamh",
    "Nikolai",
    "Noah",
    "Olivia",
    "Omar",
    "Oskar",
    "Priya",
    "Rafael",
    "Ravi",
    "Rosa",
    "Ruth",
    "Sakura",
    "Samir",
    "Sara",
    "Sebastian",
    "Sofia",
    "Soren",
    "Tariq",
    "Tomás",
    "Valentina",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zainab",
    "Zoë",
];

const LAST_NAMES: &[&str] = &[
    "Abara",
    "Achterberg",
    "Almeida",
    "Andersen",
    "Banerjee",
    "Becker",
    "Bianchi",
    "Brennan",
    "Castillo",
    "Chen",
    "Costa",
    "Dahl",
    "Delacroix",
    "Dimitrov",
    "Eriksen",
    "Fernández",
    "Fischer",
    "Fontaine",
    "Gallagher",
    "García",
    "Haddad",
    "Hansen",
    "Hoffmann",
    "Ibarra",
    "Iyer",
    "Jansen",
    "Kaplan",
    "Kimura",
    "Kowalski",
    "Larsen",
    "Lindqvist",
    "Lopez",
    "Mahmoud",
    "Marino",
    "Mbeki",
    "Mendes",
    "Moreau",
    "Müller",
    "Nakamura",
    "Novak",
    "Nwosu",
    "O'Connor",
    "Okonkwo",
    "Oliveira",
    "Park",
    "Patel",
    "Petrova",
    "Quinn",
    "Rahman",
    "Reyes",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Sørensen",
    "Tanaka",
    "Thompson",
    "Torres",
    "Van der Berg",
    "Vasquez",
    "Walsh",
    "Weber",
    "Yamamoto",
    "Yilmaz",
    "Zhang",
    "Zielinski",
];

const LOCATIONS: &[&str] = &[
    "Berlin",
    "Berlin",
    "Berlin",
    "Lisbon",
    "Lisbon",
    "Toronto",
    "Toronto",
    "Austin",
    "London",
    "Remote (Europe)",
    "Remote (Americas)",
];

/// Generates the company for `seed`, with start dates counted back from `today`.
pub fn generate(seed: u64, today: NaiveDate) -> DemoCompany {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut names = NamePool::default();
    // The two account holders are named up front so no generated person takes their names.
    names.reserve(DEMO_ADMIN_NAME);
    names.reserve(DEMO_EMPLOYEE_NAME);
    let mut employees: Vec<DemoEmployee> = Vec::with_capacity(200);
    let days_ago = |rng: &mut StdRng, min_years: i64, max_years: i64| {
        today - Duration::days(rng.gen_range(min_years * 365..=max_years * 365))
    };

    // Every head first (the chief executive at index 0), so every manager precedes their team.
    let mut heads = Vec::with_capacity(DEPARTMENTS.len());
    for (index, plan) in DEPARTMENTS.iter().enumerate() {
        let name = if index == PEOPLE {
            DEMO_ADMIN_NAME.to_string()
        } else {
            names.draw(&mut rng)
        };
        let start_date = if index == 0 {
            days_ago(&mut rng, 9, 12)
        } else {
            days_ago(&mut rng, 2, 9)
        };
        heads.push(employees.len());
        employees.push(DemoEmployee {
            name,
            email: String::new(),
            title: plan.head_title.to_string(),
            department: index,
            manager: (index != 0).then_some(0),
            location: pick(&mut rng, LOCATIONS),
            start_date,
            status: EmployeeStatus::Active,
            left_on: None,
        });
    }

    for (index, plan) in DEPARTMENTS.iter().enumerate() {
        let head = heads[index];
        let members = plan.size - 1;
        // The executive team is small enough to report straight to the chief executive.
        let lead_count = if index == 0 {
            0
        } else {
            members.div_ceil(TEAM_SIZE + 1)
        };
        let mut leads = Vec::with_capacity(lead_count);
        for _ in 0..lead_count {
            leads.push(employees.len());
            employees.push(DemoEmployee {
                name: names.draw(&mut rng),
                email: String::new(),
                title: plan.lead_title.to_string(),
                department: index,
                manager: Some(head),
                location: pick(&mut rng, LOCATIONS),
                start_date: days_ago(&mut rng, 1, 7),
                status: EmployeeStatus::Active,
                left_on: None,
            });
        }
        for member in 0..members - lead_count {
            let manager = if leads.is_empty() {
                head
            } else {
                leads[member % leads.len()]
            };
            // The demo employee account is the first engineer: a plain, active teammate.
            let is_demo_employee = index == ENGINEERING && member == 0;
            let name = if is_demo_employee {
                DEMO_EMPLOYEE_NAME.to_string()
            } else {
                names.draw(&mut rng)
            };
            let title = if is_demo_employee {
                "Software Engineer".to_string()
            } else {
                pick(&mut rng, plan.titles)
            };
            // About one in twelve joined within the last two months: the dashboard's recent hires.
            let start_date = if rng.gen_bool(1.0 / 12.0) {
                today - Duration::days(rng.gen_range(0..60))
            } else {
                days_ago(&mut rng, 0, 6)
            };
            let roll: f64 = rng.gen();
            // About one in ten has left: a plausible yearly attrition for the leavers chart.
            let status = if is_demo_employee || roll >= 0.14 {
                EmployeeStatus::Active
            } else if roll < 0.04 {
                EmployeeStatus::OnLeave
            } else {
                EmployeeStatus::Terminated
            };
            employees.push(DemoEmployee {
                name,
                email: String::new(),
                title,
                department: index,
                manager: Some(manager),
                location: pick(&mut rng, LOCATIONS),
                start_date,
                status,
                left_on: None,
            });
        }
    }
    give_leavers_a_last_day(&mut employees, seed, today);

    // Addresses last: the account holders claim theirs first, everyone else in list order gets
    // a number appended when their plain address is taken.
    let mut taken = HashSet::new();
    let mut order: Vec<usize> = (0..employees.len()).collect();
    order.sort_by_key(|&i| {
        let name = &employees[i].name;
        !(name == DEMO_ADMIN_NAME || name == DEMO_EMPLOYEE_NAME)
    });
    for i in order {
        let base = email_local_part(&employees[i].name);
        let mut local = base.clone();
        let mut n = 2;
        while !taken.insert(local.clone()) {
            local = format!("{base}{n}");
            n += 1;
        }
        employees[i].email = format!("{local}@{DEMO_DOMAIN}");
    }

    DemoCompany {
        departments: DEPARTMENTS.iter().map(|d| d.name.to_string()).collect(),
        employees,
    }
}

/// Leaving days within the last eighteen months, at least a month after each start. They come
/// from a random stream of their own, so adding them left every other generated value as it was.
fn give_leavers_a_last_day(employees: &mut [DemoEmployee], seed: u64, today: NaiveDate) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x01ea_7e55);
    for person in employees
        .iter_mut()
        .filter(|p| p.status == EmployeeStatus::Terminated)
    {
        let earliest = (person.start_date + Duration::days(30))
            .max(today - Duration::days(540))
            .min(today);
        let span = (today - earliest).num_days();
        person.left_on = Some(earliest + Duration::days(rng.gen_range(0..=span)));
    }
}

fn pick(rng: &mut StdRng, choices: &[&str]) -> String {
    choices.choose(rng).copied().unwrap_or_default().to_string()
}

/// Full names handed out without repeats.
#[derive(Default)]
struct NamePool {
    used: HashSet<String>,
}

impl NamePool {
    fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_string());
    }

    fn draw(&mut self, rng: &mut StdRng) -> String {
        loop {
            let name = format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES));
            if self.used.insert(name.clone()) {
                return name;
            }
        }
    }
}

/// `first.last` in plain ASCII: accents folded, spaces and apostrophes dropped.
fn email_local_part(name: &str) -> String {
    let mut local = String::new();
    for (i, word) in name.split_whitespace().enumerate() {
        // "Van der Berg" is one surname: only the first word is followed by a dot.
        if i == 1 {
            local.push('.');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            match c {
                'a'..='z' => local.push(c),
                'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => local.push('a'),
                'é' | 'è' | 'ê' | 'ë' => local.push('e'),
                'í' | 'ì' | 'î' | 'ï' => local.push('i'),
                'ó' | 'ò' | 'ô' | 'ö' | 'õ' => local.push('o'),
                'ø' => local.push('o'),
                'ú' | 'ù' | 'û' | 'ü' => local.push('u'),
                'ñ' => local.push('n'),
                'ç' => local.push('c'),
                _ => {}
            }
        }
    }
    local
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 15).unwrap()
    }

    #[test]
    fn the_company_has_two_hundred_people_in_eight_departments_with_one_chief() {
        let company = generate(DEMO_SEED, today());
        assert_eq!(company.departments.len(), 8);
        assert_eq!(company.employees.len(), 200);
        let chiefs: Vec<_> = company
            .employees
            .iter()
            .filter(|e| e.manager.is_none())
            .collect();
        assert_eq!(chiefs.len(), 1);
        for (i, e) in company.employees.iter().enumerate() {
            if let Some(m) = e.manager {
                assert!(m < i, "{} is listed before their manager", e.name);
                assert_ne!(company.employees[m].status, EmployeeStatus::Terminated);
            }
            assert!(e.start_date <= today());
            let left = e.status == EmployeeStatus::Terminated;
            assert_eq!(
                e.left_on.is_some(),
                left,
                "{} has a last day iff they left",
                e.name
            );
            assert!(e
                .left_on
                .is_none_or(|day| day >= e.start_date && day <= today()));
            assert!(e.email.ends_with("@larkspur.example") && e.email.is_ascii());
        }
        let emails: HashSet<_> = company.employees.iter().map(|e| &e.email).collect();
        assert_eq!(emails.len(), 200, "work e-mails are unique");
    }

    #[test]
    fn the_same_seed_gives_the_same_company_and_another_seed_another() {
        assert_eq!(generate(7, today()), generate(7, today()));
        assert_ne!(generate(7, today()), generate(8, today()));
    }

    #[test]
    fn the_account_holders_keep_their_plain_addresses() {
        let company = generate(DEMO_SEED, today());
        let email = |name: &str| {
            company
                .employees
                .iter()
                .find(|e| e.name == name)
                .map(|e| e.email.clone())
        };
        assert_eq!(
            email(DEMO_ADMIN_NAME).as_deref(),
            Some("dana.whitfield@larkspur.example")
        );
        assert_eq!(
            email(DEMO_EMPLOYEE_NAME).as_deref(),
            Some("sam.okafor@larkspur.example")
        );
    }

    #[test]
    fn addresses_fold_accents_and_keep_compound_surnames_together() {
        assert_eq!(email_local_part("Zoë Van der Berg"), "zoe.vanderberg");
        assert_eq!(email_local_part("Tomás O'Connor"), "tomas.oconnor");
        assert_eq!(email_local_part("Nikolai Sørensen"), "nikolai.sorensen");
    }
}
