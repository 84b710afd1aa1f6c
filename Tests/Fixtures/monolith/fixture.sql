-- A small monolith with the pitfalls ../shared/MONOLITH.md lists, for the import tests.
SET search_path TO blytz_hire;

INSERT INTO users (id, email, role, "lastSeenAt", preferences, "createdAt", "updatedAt") VALUES
  ('FbCompanyUid00000000000001A', 'Owner@Acme.example', 'company', '2026-01-02 10:00:00', '{"theme":"dark"}', '2025-12-31 23:59:59.999', '2026-01-02 10:00:00'),
  ('FbVaUid000000000000000001BB', 'maria@va.example', 'va', '2026-01-02 10:00:00', 'null', '2026-01-01 00:00:00.001', '2026-01-02 10:00:00'),
  ('FbVaUid000000000000000002CC', 'jose@va.example', 'company', '2026-01-02 10:00:00', NULL, '2026-01-01 12:00:00', '2026-01-02 10:00:00'),
  ('FbNoProfile0000000000000003', 'noprofile@example.com', 'va', '2026-01-02 10:00:00', NULL, '2026-01-01 12:00:00', '2026-01-02 10:00:00'),
  ('FbCompanyless00000000000004', 'companyless@example.com', 'company', '2026-01-02 10:00:00', NULL, '2026-01-01 12:00:00', '2026-01-02 10:00:00'),
  ('FbDuplicateEmail00000000005', 'MARIA@va.example', 'va', '2026-01-02 10:00:00', NULL, '2026-01-03 12:00:00', '2026-01-03 12:00:00'),
  ('FbOddRole000000000000000006', 'odd@example.com', 'superuser', '2026-01-02 10:00:00', NULL, '2026-01-01 12:00:00', '2026-01-02 10:00:00'),
  ('cboth000000000000000000007', 'both@example.com', 'va', '2026-01-02 10:00:00', NULL, '2026-01-01 12:00:00', '2026-01-02 10:00:00');

INSERT INTO va_profiles (id, "userId", name, bio, country, "hourlyRate", skills, availability, timezone, languages, "workExperience", "averageRating", "totalReviews", "profileViews", "verificationLevel", "earnedAmount", "completedJobs", "avatarUrl", "resumeUrl") VALUES
  ('cvaprofile00000000000000001', 'FbVaUid000000000000000001BB', 'Maria Santos', 'Bookkeeping and customer support', 'ph', 15, '{"Excel"," excel ","Customer Support",""}', true, 'Asia/Manila', '[{"code":"en","level":"fluent"},{"code":"tl","level":"native"}]', '[{"company":"Acme","role":"Assistant","years":2}]', 1.0, 7, 12, 'premium', 123.45, 9, 'https://storage.example/blytz/FbVaUid000000000000000001BB/profile_picture/1700000000000_me.png', 'https://storage.example/blytz/FbVaUid000000000000000001BB/va_resume/1700000000001_cv.pdf'),
  ('cvaprofile00000000000000002', 'FbVaUid000000000000000002CC', 'Jose Reyes', NULL, 'MX', 22, NULL, false, NULL, 'null', NULL, NULL, 0, 0, 'basic', 0, 0, NULL, NULL),
  ('cshared00000000000000000001', 'cboth000000000000000000007', 'Both Ways', 'VA and company at once', 'US', 40, '{}', true, NULL, NULL, NULL, NULL, 0, 0, 'professional', 0, 0, NULL, NULL);

INSERT INTO companies (id, "userId", name, bio, country, website, industry, "companySize", "foundedYear", "verificationLevel", "totalSpent", "logoUrl", "updatedAt") VALUES
  ('ccompany0000000000000000001', 'FbCompanyUid00000000000001A', 'Acme Remote Ops', 'E-commerce operations', 'US', 'https://acme.example', 'E-commerce', '11-50', 2017, 'basic', 999, 'https://storage.example/blytz/FbCompanyUid00000000000001A/company_logo/1700000000002_logo.png', '2026-01-02 10:00:00'),
  ('cshared00000000000000000001', 'cboth000000000000000000007', 'Both Ways LLC', NULL, 'US', NULL, NULL, '1-10', NULL, 'basic', 0, NULL, '2026-01-02 10:00:00');

INSERT INTO job_postings (id, "companyId", title, description, "rateRange", budget, category, tags, "experienceLevel", "jobType", status, "skillsRequired", views, "proposalCount", "createdAt", "updatedAt") VALUES
  ('cposting0000000000000000001', 'ccompany0000000000000000001', 'Bookkeeper for a small shop', 'Monthly books in Excel', '$15-25/hr', 19.99, 'finance', NULL, 'mid', 'fixed', NULL, '{"Excel","Bookkeeping"}', 40, 99, '2026-01-05 08:00:00', '2026-01-05 08:00:00'),
  ('cposting0000000000000000002', 'ccompany0000000000000000001', 'Inbox support, hourly', 'Answer customer email', '$10-15/hour', 0.1, 'support', '{}', 'entry', 'hourly', 'in_progress', '{}', 3, 1, '2026-01-06 23:59:59.5', '2026-01-06 23:59:59.5'),
  ('cposting0000000000000000003', 'ccompany0000000000000000001', 'Something odd', 'A status nobody wrote', '$1-2', NULL, NULL, NULL, NULL, 'fixed', 'archived_weird', NULL, 0, 0, '2026-01-07 08:00:00', '2026-01-07 08:00:00');

INSERT INTO jobs (id, "jobPostingId", "vaProfileId", "companyId", status, title, description, budget, "createdAt", "updatedAt") VALUES
  ('cjob000000000000000000000001', 'cposting0000000000000000001', 'cvaprofile00000000000000001', 'ccompany0000000000000000001', 'active', 'Bookkeeper for a small shop', 'Monthly books', 19.99, '2026-01-08 09:00:00', '2026-01-08 09:00:00'),
  ('cjob000000000000000000000002', 'cposting0000000000000000002', 'cvaprofile00000000000000002', 'ccompany0000000000000000001', 'active', 'Inbox support, hourly', 'Email', NULL, '2026-01-08 09:00:00', '2026-01-08 09:00:00');

INSERT INTO proposals (id, "jobPostingId", "vaProfileId", "jobId", "coverLetter", "bidAmount", "bidType", "hourlyRate", "estimatedHours", "deliveryTime", status, "createdAt", "updatedAt") VALUES
  ('cproposal00000000000000001', 'cposting0000000000000000001', 'cvaprofile00000000000000001', 'cjob000000000000000000000001', 'I keep books for three shops.', 19.99, 'fixed', NULL, NULL, '1 week', 'accepted', '2026-01-07 10:00:00', '2026-01-08 09:00:00'),
  ('cproposal00000000000000002', 'cposting0000000000000000002', 'cvaprofile00000000000000002', 'cjob000000000000000000000002', 'Fast replies.', 12.5, 'hourly', 12.5, 10.5, '2 days', 'hired', '2026-01-07 11:00:00', '2026-01-08 09:00:00'),
  ('cproposal00000000000000003', 'cposting0000000000000000001', 'cvaprofile00000000000000002', NULL, 'Also interested.', 25.005, 'fixed', NULL, NULL, '3 days', 'viewed', '2026-01-07 12:00:00', '2026-01-07 12:00:00');

INSERT INTO contracts (id, "jobId", "jobPostingId", "vaProfileId", "companyId", "proposalId", "contractType", amount, "hourlyRate", currency, "startDate", status, terms, deliverables, "totalPaid", "createdAt", "updatedAt") VALUES
  ('ccontract0000000000000000001', 'cjob000000000000000000000001', 'cposting0000000000000000001', 'cvaprofile00000000000000001', 'ccompany0000000000000000001', 'cproposal00000000000000001', 'fixed', 19.99, NULL, 'USD', '2026-01-08 00:00:00', 'active', '{"notice":"7 days"}', ARRAY['{"item":"books"}'::jsonb], 1999, '2026-01-08 09:00:00', '2026-01-09 09:00:00'),
  ('ccontract0000000000000000002', 'cjob000000000000000000000002', 'cposting0000000000000000002', 'cvaprofile00000000000000002', 'ccompany0000000000000000001', 'cproposal00000000000000002', 'hourly', 12.5, 12.5, 'USD', '2026-01-08 00:00:00', 'paused', NULL, '{}', 0, '2026-01-08 09:00:00', '2026-01-09 09:00:00');

INSERT INTO milestones (id, "contractId", "jobId", title, description, amount, status, "dueDate", "completedAt", "approvedAt", "createdAt", "updatedAt") VALUES
  ('cmilestone000000000000000001', 'ccontract0000000000000000001', 'cjob000000000000000000000001', 'Set up the books', NULL, 19.99, 'approved', '2026-01-15 00:00:00', '2026-01-10 00:00:00', '2026-01-11 00:00:00', '2026-01-08 09:00:00', '2026-01-11 00:00:00'),
  ('cmilestone000000000000000002', 'ccontract0000000000000000001', 'cjob000000000000000000000001', 'A tiny extra', 'ten cents', 0.1, 'completed', NULL, '2026-01-12 00:00:00', NULL, '2026-01-08 09:00:00', '2026-01-12 00:00:00');

INSERT INTO timesheets (id, "contractId", "vaProfileId", "jobId", date, "startTime", "endTime", "totalHours", description, status, "approvedAt", "approvedBy", "createdAt", "updatedAt") VALUES
  ('ctimesheet000000000000000001', 'ccontract0000000000000000002', 'cvaprofile00000000000000002', 'cjob000000000000000000000002', '2026-01-09 23:30:00', '2026-01-09 22:30:00', '2026-01-10 00:00:00', 1.5, 'Inbox zero', 'approved', '2026-01-10 08:00:00', 'FbCompanyUid00000000000001A', '2026-01-10 00:00:00', '2026-01-10 08:00:00');

INSERT INTO matches (id, "jobPostingId", "vaProfileId", status, "createdAt", "updatedAt") VALUES
  ('cmatch00000000000000000001', 'cposting0000000000000000001', 'cvaprofile00000000000000002', 'active', '2026-01-07 00:00:00', '2026-01-07 00:00:00');
INSERT INTO match_votes (id, "jobPostingId", "vaProfileId", "userId", vote, "createdAt") VALUES
  ('cvote000000000000000000001', 'cposting0000000000000000001', 'cvaprofile00000000000000002', 'FbCompanyUid00000000000001A', true, '2026-01-07 00:00:00');

INSERT INTO payments (id, "jobId", "contractId", "milestoneId", "matchId", "userId", "receiverId", "stripePaymentIntentId", amount, status, "stripeFee", "platformFee", method, type, metadata, "refundAmount", "refundedAt", "processedAt", "createdAt", "updatedAt") VALUES
  ('cpayment000000000000000001', 'cjob000000000000000000000001', 'ccontract0000000000000000001', 'cmilestone000000000000000001', NULL, 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000001BB', 'pi_1767900000001', 1999, 'succeeded', 88, 200, 'card', 'payment', '{"note":"first"}', NULL, NULL, '2026-01-11 00:00:01', '2026-01-11 00:00:00', '2026-01-11 00:00:01'),
  ('cpayment000000000000000002', 'cjob000000000000000000000001', 'ccontract0000000000000000001', 'cdeletedmilestone0000000001', NULL, 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000001BB', 'pi_1767900000002', 199900, 'succeeded', 5827, 19990, 'card', 'payment', NULL, NULL, NULL, '2026-01-12 00:00:01', '2026-01-12 00:00:00', '2026-01-12 00:00:01'),
  ('cpayment000000000000000003', 'cjob000000000000000000000002', 'ccontract0000000000000000002', NULL, NULL, 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000002CC', 'pi_1767900000003', 1000, 'refunded', 59, 100, 'card', 'payment', '{"refundReason":"half the hours"}', 400, '2026-01-13 00:00:00', '2026-01-12 00:00:01', '2026-01-12 00:00:00', '2026-01-13 00:00:00'),
  ('cpayment000000000000000004', NULL, NULL, NULL, 'cmatch00000000000000000001', 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000002CC', 'pi_1767900000004', 2999, 'succeeded', 117, 300, 'card', 'payment', NULL, NULL, NULL, '2026-01-07 00:00:01', '2026-01-07 00:00:00', '2026-01-07 00:00:01'),
  ('cpayment000000000000000005', NULL, 'ccontract0000000000000000001', NULL, NULL, 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000001BB', 'pi_1767900000005', 500, 'bounced', NULL, NULL, 'card', 'payment', NULL, NULL, NULL, NULL, '2026-01-14 00:00:00', '2026-01-14 00:00:00');

INSERT INTO invoices (id, "contractId", "userId", "receiverId", "invoiceNumber", items, subtotal, "taxRate", "taxAmount", discount, "totalAmount", "dueDate", currency, status, notes, "createdAt", "updatedAt") VALUES
  ('cinvoice000000000000000001', 'ccontract0000000000000000001', 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000001BB', 'INV-202601-0042', ARRAY['{"id":"1","description":"Set up the books","quantity":1,"amount":19.99}'::jsonb], 19.99, 10, 2.0, 0, 21.99, '2026-02-01 00:00:00', 'USD', 'pending', NULL, '2026-01-11 00:00:00', '2026-01-11 00:00:00'),
  ('cinvoice000000000000000002', 'ccontract0000000000000000001', 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000001BB', 'INV-202601-0042', '{}', 0.1, 0, 0, 0, 0.1, '2026-02-01 00:00:00', 'USD', 'pending', 'repeated number', '2026-01-12 00:00:00', '2026-01-12 00:00:00'),
  ('cinvoice000000000000000003', 'cmissingcontract00000000001', 'FbCompanyUid00000000000001A', 'FbVaUid000000000000000001BB', 'INV-202601-0077', NULL, 5, 0, 0, 0, 5, '2026-02-01 00:00:00', 'USD', 'pending', NULL, '2026-01-12 00:00:00', '2026-01-12 00:00:00');

-- The one review the two-FK rule allows: its target id is both a VA profile's and a company's.
INSERT INTO reviews (id, "reviewerId", "targetType", "targetId", rating, comment, categories, "createdAt", "updatedAt") VALUES
  ('creview000000000000000001', 'FbCompanyUid00000000000001A', 'va', 'cshared00000000000000000001', 4, 'Reliable', '{"communication":5}', '2026-01-13 00:00:00', '2026-01-13 00:00:00');

INSERT INTO notifications (id, "userId", type, title, message, data, read, priority, "createdAt") VALUES
  ('cnotif0000000000000000001', 'FbCompanyUid00000000000001A', 'chat_message', 'New message', 'Hello, books are ready', '{"senderId":"FbVaUid000000000000000001BB","senderName":"maria@va.example","senderRole":"va","type":"text","timestamp":"2026-01-10T10:00:00Z"}', true, 'normal', '2026-01-10 10:00:00'),
  ('cnotif0000000000000000002', 'FbVaUid000000000000000001BB', 'chat_message', 'New message', 'Thanks, paying now', '{"senderId":"FbCompanyUid00000000000001A","senderName":"Owner@Acme.example","senderRole":"company","type":"text","timestamp":"2026-01-10T10:05:00Z"}', false, 'normal', '2026-01-10 10:05:00'),
  ('cnotif0000000000000000003', 'FbVaUid000000000000000001BB', 'payment_received', 'Payment received', 'You received $19.99', '{"paymentId":"cpayment000000000000000001"}', false, 'high', '2026-01-11 00:00:02'),
  ('cnotif0000000000000000004', 'FbVaUid000000000000000001BB', 'chat_message', 'New message', 'From nobody', '{"senderId":"FbGoneUser000000000000000"}', false, 'normal', '2026-01-10 11:00:00');

INSERT INTO portfolio_items (id, "vaProfileId", title, description, "fileUrl", "fileType", "thumbnailUrl", category, technologies, featured, "projectUrl", "createdAt") VALUES
  ('cportfolio00000000000000001', 'cvaprofile00000000000000001', 'Shop books', 'A year of books', 'https://storage.example/blytz/FbVaUid000000000000000001BB/va_portfolio/1700000000003_books.png', 'image', 'https://storage.example/blytz/FbVaUid000000000000000001BB/va_portfolio/1700000000003_books.png?thumb=1', 'finance', '{"Excel"," Excel","QuickBooks"}', true, NULL, '2026-01-04 00:00:00');
