-- Expiry dates before year 1000 used to be written without zero padding ("999-06-01T..."), which sorts after
-- every four-digit year and so made an expired memory look alive. Pad them to the one fixed-width form.
UPDATE memories
SET expires_at = substr('000', 1, 5 - instr(expires_at, '-')) || expires_at
WHERE expires_at IS NOT NULL AND instr(expires_at, '-') BETWEEN 2 AND 4;

-- Metadata holding NaN or Infinity was written as text that is not JSON (Python writes `: NaN`, `[NaN`, `, NaN`),
-- so every metadata filter over that user's memories failed. Clients were shown null for such numbers: store null.
-- Only rows that are not valid JSON change.
UPDATE memories
SET metadata = replace(replace(replace(replace(replace(replace(replace(replace(replace(metadata, ': -Infinity', ': null'), '[-Infinity', '[null'), ', -Infinity', ', null'), ': Infinity', ': null'), '[Infinity', '[null'), ', Infinity', ', null'), ': NaN', ': null'), '[NaN', '[null'), ', NaN', ', null')
WHERE json_valid(metadata) = 0;
