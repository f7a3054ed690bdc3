-- Reserved: migration 0024 belongs to the notifications branch (issue 20,
-- section on notifications). This empty placeholder keeps the numbering
-- contiguous on the bundle branch until that branch is merged; the merge
-- replaces it with the real 0024.
SELECT 1;
