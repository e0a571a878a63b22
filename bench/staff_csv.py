"""Writes a staff list of N people for the bench scripts (import.sh, org-chart.sh), in the
directory export's columns: python3 bench/staff_csv.py PATH N.

Person i reports to person i // 10 (person 0 to nobody): six levels at 20 000; a manager comes
before the people who report to them. One in fifty of those who manage nobody has left."""
import sys

path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w", newline="") as f:
    f.write("Name,Work e-mail,Job title,Department,Manager e-mail,Location,Start date,Status,Last day\r\n")
    for i in range(n):
        manager = "" if i == 0 else f"person{i // 10}@example.com"
        leaver = i % 50 == 49 and i >= n // 10
        status, last = ("Left the company", "2024-06-30") if leaver else ("Active", "")
        f.write(f"Person {i},person{i}@example.com,Engineer {i % 7},Department {i % 40},"
                f"{manager},City {i % 12},20{10 + i % 14:02d}-0{1 + i % 9}-1{i % 10},{status},{last}\r\n")
