CREATE TABLE "search_words" (
	"word" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE INDEX "search_words_trgm_idx" ON "search_words" USING gin ("word" gin_trgm_ops);--> statement-breakpoint
-- The words of a search_text: split on white space and ASCII punctuation (spelled as ranges, so the
-- database's locale cannot change the split), 3+ code points: the query words search looks up.
CREATE FUNCTION caravan_search_words_of(search_text text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT w FROM regexp_split_to_table(search_text, '[[:space:]!-/:-@[-`{-~]+') AS w WHERE char_length(w) >= 3
$$;--> statement-breakpoint
-- New words of active products join the vocabulary in the writing statement's transaction. Sorted,
-- so two transactions adding the same new words wait for each other in one order (no deadlock).
CREATE FUNCTION caravan_add_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_words (word)
  SELECT DISTINCT w FROM new_products p, caravan_search_words_of(p.search_text) AS w
  WHERE p.status = 'active'
  ORDER BY w
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER products_search_words_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_products FOR EACH STATEMENT EXECUTE FUNCTION caravan_add_search_words();--> statement-breakpoint
CREATE TRIGGER products_search_words_update AFTER UPDATE ON products
  REFERENCING NEW TABLE AS new_products FOR EACH STATEMENT EXECUTE FUNCTION caravan_add_search_words();--> statement-breakpoint
INSERT INTO search_words (word)
SELECT DISTINCT w FROM products, caravan_search_words_of(products.search_text) AS w
WHERE products.status = 'active'
ON CONFLICT DO NOTHING;--> statement-breakpoint
-- Every committed change to what product reads show is announced on one channel (NOTIFY is sent at
-- commit, never for a rolled-back change); instances drop their catalog read caches on it.
CREATE FUNCTION caravan_notify_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('caravan_catalog_changed', TG_TABLE_NAME);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER products_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION caravan_notify_catalog_changed();--> statement-breakpoint
CREATE TRIGGER product_variants_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_variants
  FOR EACH STATEMENT EXECUTE FUNCTION caravan_notify_catalog_changed();--> statement-breakpoint
CREATE TRIGGER product_images_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_images
  FOR EACH STATEMENT EXECUTE FUNCTION caravan_notify_catalog_changed();--> statement-breakpoint
CREATE TRIGGER product_models_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_models
  FOR EACH STATEMENT EXECUTE FUNCTION caravan_notify_catalog_changed();--> statement-breakpoint
CREATE TRIGGER categories_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
  FOR EACH STATEMENT EXECUTE FUNCTION caravan_notify_catalog_changed();
