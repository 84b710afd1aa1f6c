-- A monolith of {n} users and their related rows, about ten rows per user, generated in bulk in the
-- database (one INSERT … SELECT per table). Users 1…n/5 are companies with two postings each; the rest
-- are VAs, all but every tenth with a profile and a portfolio item. Each posting has five proposals and
-- one hire with a fixed contract, two milestones (one paid), two timesheets, two payments and an invoice;
-- each user two notifications, one of them chat. `{n}` is replaced before the statements run.
SET search_path TO blytz_hire;

INSERT INTO users (id, email, role, "lastSeenAt", preferences, "createdAt", "updatedAt")
SELECT 'Fb' || lpad(i::text, 26, '0'), 'user' || i || '@bulk.example', CASE WHEN i <= {n} / 5 THEN 'company' ELSE 'va' END,
       timestamp '2026-01-01' + i * interval '1 second', NULL, timestamp '2025-01-01' + i * interval '1 second', timestamp '2026-01-01' + i * interval '1 second'
FROM generate_series(1, {n}) AS i;

INSERT INTO companies (id, "userId", name, bio, country, industry, "companySize", "verificationLevel", "totalSpent", "updatedAt")
SELECT 'cco' || lpad(i::text, 24, '0'), 'Fb' || lpad(i::text, 26, '0'), 'Company ' || i, 'We sell things, batch ' || (i % 97), 'US', 'e-commerce',
       (ARRAY['1-10', '11-50', '51-200', '201+'])[1 + i % 4], 'basic', i * 1.5, timestamp '2026-01-01'
FROM generate_series(1, {n} / 5) AS i;

INSERT INTO va_profiles (id, "userId", name, bio, country, "hourlyRate", skills, availability, timezone, languages, "profileViews", "verificationLevel", "avatarUrl")
SELECT 'cva' || lpad(i::text, 24, '0'), 'Fb' || lpad(i::text, 26, '0'), 'VA number ' || i, 'Support and bookkeeping, batch ' || (i % 89),
       (ARRAY['PH', 'IN', 'KE', 'BR', 'UA'])[1 + i % 5], 5 + i % 60, ARRAY['excel', 'support', 'skill' || (i % 40), ' Excel '], i % 3 <> 0, 'Asia/Manila',
       '[{"code":"en","level":"fluent"}]', i % 50, 'basic', CASE WHEN i % 2 = 0 THEN 'https://storage.example/blytz/u' || i || '/profile_picture/1700000000000_me.png' END
FROM generate_series({n} / 5 + 1, {n}) AS i WHERE i % 10 <> 1;

INSERT INTO job_postings (id, "companyId", title, description, "rateRange", budget, category, tags, "experienceLevel", "jobType", status, "skillsRequired", views, "proposalCount", "createdAt", "updatedAt")
SELECT 'cjp' || lpad(p::text, 24, '0'), 'cco' || lpad(((p + 1) / 2)::text, 24, '0'), 'Posting ' || p || ' for bookkeeping', 'Books and inbox, lot ' || (p % 101),
       '$10-20/hr', 100 + p % 50 + 0.99, (ARRAY['finance', 'support', 'admin'])[1 + p % 3], ARRAY['remote'], 'mid', 'fixed',
       CASE WHEN p % 7 = 0 THEN NULL ELSE 'open' END, ARRAY['excel', 'skill' || (p % 40)], p % 30, 5,
       timestamp '2026-01-02' + p * interval '1 second', timestamp '2026-01-02' + p * interval '1 second'
FROM generate_series(1, 2 * ({n} / 5)) AS p;

-- VA user of proposal q (0…4) of posting p: one with a profile.
INSERT INTO proposals (id, "jobPostingId", "vaProfileId", "coverLetter", "bidAmount", "bidType", "deliveryTime", status, "createdAt", "updatedAt")
SELECT 'cpr' || lpad((p * 5 + q)::text, 24, '0'), 'cjp' || lpad(p::text, 24, '0'), 'cva' || lpad(v::text, 24, '0'), 'I can do this, bid ' || q,
       90 + q + 0.995, 'fixed', '1 week', CASE WHEN q = 0 THEN 'accepted' ELSE 'pending' END,
       timestamp '2026-01-03' + p * interval '1 second', timestamp '2026-01-03' + p * interval '1 second'
FROM generate_series(1, 2 * ({n} / 5)) AS p, generate_series(0, 4) AS q,
     LATERAL (SELECT {n} / 5 + 2 + ((p * 5 + q) % ({n} - {n} / 5 - 2)) AS raw) r,
     LATERAL (SELECT CASE WHEN raw % 10 = 1 THEN raw + 1 ELSE raw END AS v) s;

INSERT INTO jobs (id, "jobPostingId", "vaProfileId", "companyId", status, title, description, budget, "createdAt", "updatedAt")
SELECT 'cjb' || lpad(p::text, 24, '0'), j."jobPostingId", j."vaProfileId", jp."companyId", 'active', 'Hire ' || p, 'Hired', 100.99, j."createdAt", j."createdAt"
FROM generate_series(1, 2 * ({n} / 5)) AS p
JOIN proposals j ON j.id = 'cpr' || lpad((p * 5)::text, 24, '0')
JOIN job_postings jp ON jp.id = j."jobPostingId";

UPDATE proposals SET "jobId" = 'cjb' || lpad(((substr(id, 4)::bigint) / 5)::text, 24, '0') WHERE status = 'accepted';

INSERT INTO contracts (id, "jobId", "jobPostingId", "vaProfileId", "companyId", "proposalId", "contractType", amount, currency, "startDate", status, "totalPaid", "createdAt", "updatedAt")
SELECT 'cct' || substr(j.id, 4), j.id, j."jobPostingId", j."vaProfileId", j."companyId", 'cpr' || lpad((substr(j.id, 4)::bigint * 5)::text, 24, '0'),
       'fixed', 100.99, 'USD', timestamp '2026-01-04', 'active', 5050, j."createdAt", j."createdAt"
FROM jobs j;

INSERT INTO milestones (id, "contractId", "jobId", title, amount, status, "createdAt", "updatedAt")
SELECT 'cms' || substr(c.id, 4) || m, c.id, c."jobId", 'Part ' || m, CASE WHEN m = 1 THEN 50.5 ELSE 50.49 END, CASE WHEN m = 1 THEN 'approved' ELSE 'pending' END,
       c."createdAt", c."createdAt"
FROM contracts c, generate_series(1, 2) AS m;

INSERT INTO timesheets (id, "contractId", "vaProfileId", "jobId", date, "startTime", "endTime", "totalHours", status, "createdAt", "updatedAt")
SELECT 'cts' || substr(c.id, 4) || d, c.id, c."vaProfileId", c."jobId", timestamp '2026-01-05' + d * interval '1 day',
       timestamp '2026-01-05 09:00' + d * interval '1 day', timestamp '2026-01-05 11:30' + d * interval '1 day', 2.5, 'pending', c."createdAt", c."createdAt"
FROM contracts c, generate_series(1, 2) AS d;

INSERT INTO payments (id, "jobId", "contractId", "milestoneId", "userId", "receiverId", "stripePaymentIntentId", amount, status, "stripeFee", "platformFee", method, type, "processedAt", "createdAt", "updatedAt")
SELECT 'cpy' || substr(m.id, 4), c."jobId", c.id, m.id, k."userId", v."userId", 'pi_' || substr(m.id, 4), round(m.amount::numeric * 100)::int, 'succeeded',
       30 + round(m.amount::numeric * 2.9)::int, round(m.amount::numeric * 10)::int, 'card', 'payment', m."createdAt", m."createdAt", m."createdAt"
FROM milestones m JOIN contracts c ON c.id = m."contractId" JOIN companies k ON k.id = c."companyId" JOIN va_profiles v ON v.id = c."vaProfileId";

INSERT INTO invoices (id, "contractId", "userId", "receiverId", "invoiceNumber", items, subtotal, "taxRate", "taxAmount", discount, "totalAmount", "dueDate", currency, status, "createdAt", "updatedAt")
SELECT 'cin' || substr(c.id, 4), c.id, k."userId", v."userId", 'INV-202601-' || lpad((substr(c.id, 4)::bigint % 10000)::text, 4, '0'),
       ARRAY[jsonb_build_object('id', '1', 'description', 'Part 1', 'quantity', 1, 'amount', 50.5)], 50.5, 0, 0, 0, 50.5, timestamp '2026-02-01', 'USD', 'pending',
       c."createdAt", c."createdAt"
FROM contracts c JOIN companies k ON k.id = c."companyId" JOIN va_profiles v ON v.id = c."vaProfileId";

INSERT INTO notifications (id, "userId", type, title, message, data, read, priority, "createdAt")
SELECT 'cnt' || lpad((i * 2 + k)::text, 24, '0'), 'Fb' || lpad(i::text, 26, '0'), CASE WHEN k = 0 THEN 'chat_message' ELSE 'payment_received' END,
       'Hello', 'Message ' || i, CASE WHEN k = 0 THEN jsonb_build_object('senderId', 'Fb' || lpad((1 + i % {n})::text, 26, '0'), 'type', 'text') ELSE '{}'::jsonb END,
       k = 1, 'normal', timestamp '2026-01-06' + i * interval '1 second'
FROM generate_series(1, {n}) AS i, generate_series(0, 1) AS k;

INSERT INTO portfolio_items (id, "vaProfileId", title, description, "fileUrl", "fileType", technologies, featured, "createdAt")
SELECT 'cpf' || substr(v.id, 4), v.id, 'Work sample', 'A sample', 'https://storage.example/blytz/' || v."userId" || '/va_portfolio/1700000000003_sample.png', 'image',
       ARRAY['excel'], false, timestamp '2026-01-04'
FROM va_profiles v;
