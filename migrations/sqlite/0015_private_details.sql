-- Private details on the employee record: who the person is outside work. All optional (NULL
-- when not given). Only the profile loads them, and only for people the visibility rule lets see
-- them (hr::employee::visibility); the directory's statements never name these columns.
ALTER TABLE employees ADD COLUMN personal_email TEXT;
ALTER TABLE employees ADD COLUMN phone TEXT;
ALTER TABLE employees ADD COLUMN birth_date TEXT
    CHECK (birth_date IS NULL OR birth_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]');
ALTER TABLE employees ADD COLUMN home_address TEXT;
ALTER TABLE employees ADD COLUMN emergency_contact TEXT;
