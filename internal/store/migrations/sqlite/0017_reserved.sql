-- Reserved for another part of issue 17 (crypt: 0017, mask: 0018), so that
-- this branch's 0019 applies in order; replaced by that part's migration on merge.
SELECT 1;
