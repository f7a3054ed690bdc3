-- Reserved: 0013 belongs to the approval-modes work, which replaces this
-- file when it is merged. It is here only so that 0014 applies in order.
SELECT 1;
