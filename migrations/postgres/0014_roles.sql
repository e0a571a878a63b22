-- Roles an HR team really has: employee, hr, security, auditor, admin.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('employee', 'hr', 'security', 'auditor', 'admin'));
