-- The contacts merged into a survivor, found from the survivor: its
-- timeline shows their interactions too. Partial: most contacts are not
-- merged, and only merged ones need finding this way.
CREATE INDEX contacts_by_merged_into ON contacts (merged_into) WHERE merged_into IS NOT NULL;
