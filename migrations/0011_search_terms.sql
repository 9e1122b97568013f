-- The distinct words of a search_text, every length, split exactly like caravan_search_words_of (the
-- vocabulary's words), so a vocabulary word that contains a query word is one of these terms. Its
-- body has a subquery, so the planner never inlines it: queries spelled caravan_search_terms(search_text)
-- match the index expression below.
CREATE FUNCTION caravan_search_terms(search_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array(
    SELECT DISTINCT w FROM regexp_split_to_table(search_text, '[[:space:]!-/:-@[-`{-~]+') AS w
    WHERE w <> '' ORDER BY w
  )
$$;--> statement-breakpoint
CREATE INDEX "products_search_terms_idx" ON "products" USING gin (caravan_search_terms("search_text")) WHERE "products"."status" = 'active';--> statement-breakpoint
-- A fixed sixteenth of the active products (search reads it first; catalog.tables.ts inSearchSample).
CREATE INDEX "products_search_terms_sample_idx" ON "products" USING gin (caravan_search_terms("search_text")) WHERE "products"."status" = 'active' and (get_byte(uuid_send("products"."id"), 0) & 15) = 0;