-- People: a profile, skills (free tags, a JSON list) and a tier.
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE users ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN tier TEXT;

-- The tiers, lowest first (an empty table means the built-in list); a
-- project that requires one admits it and every tier above.
CREATE TABLE tiers (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL UNIQUE
);

-- What a project asks of whoever labels it: every skill listed, and at
-- least the tier.
ALTER TABLE projects ADD COLUMN required_skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN required_tier TEXT;
