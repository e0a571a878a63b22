-- An account belongs to the employee record with the same work e-mail (both are stored in the
-- same normalized form). Until now only the demo linked them; this links every account and record
-- that share an address and are both still unlinked. Existing links are kept as they are.
UPDATE users
SET employee_id = (SELECT e.id FROM employees e WHERE e.email = users.email)
WHERE employee_id IS NULL
  AND EXISTS (SELECT 1 FROM employees e WHERE e.email = users.email)
  AND NOT EXISTS (
      SELECT 1 FROM users other
      WHERE other.employee_id = (SELECT e.id FROM employees e WHERE e.email = users.email)
  );
