--[[ decimal.lua: exact addition of decimal numbers written as text.
  KEYS, ARGV, return value: none of its own (a library; needs prelude.lua before it).
  Why: Lua numbers are doubles (exact only up to 2^53) and Redis 7.0's cjson keeps 14 digits;
  balances must stay exact, so increments add digit strings.
  Defines the table Decimal: dec_add(a, b) -> the exact sum as text, for JSON numbers without an exponent
  (the scale of the result is the larger of the two scales: "1.50" + "1" = "2.50");
  dec_fits_double(s) -> whether a double (RedisJSON's non-integer type) holds s exactly
  enough to print it back unchanged; dec_fits_int64(s).
]]
local Decimal = {}
do
  local DEC_PATTERN = "^(%-?)(%d+)%.?(%d*)$"
  local CHUNK = 7 -- digits per step: sums stay far below 2^53

  local function dec_split(s, what)
    local sign, int, frac = smatch(s, DEC_PATTERN)
    if not sign then
      docerr("NotExact", what .. " " .. s .. " is not a plain decimal number (exponents are not supported)")
    end
    return sign == "-", int, frac
  end

  -- Magnitudes are digit strings of equal length.
  local function mag_add(a, b)
    local out, carry, i, n = {}, 0, #a, 0
    while i >= 1 do
      local j = i - CHUNK + 1
      if j < 1 then j = 1 end
      local w = i - j + 1
      local base = 10 ^ w
      local s = tonumber(ssub(a, j, i)) + tonumber(ssub(b, j, i)) + carry
      if s >= base then s, carry = s - base, 1 else carry = 0 end
      n = n + 1
      out[n] = sformat("%0" .. w .. ".0f", s)
      i = j - 1
    end
    if carry > 0 then
      n = n + 1
      out[n] = "1"
    end
    local r = {}
    for k = n, 1, -1 do r[n - k + 1] = out[k] end
    return tconcat(r)
  end

  -- a >= b
  local function mag_sub(a, b)
    local out, borrow, i, n = {}, 0, #a, 0
    while i >= 1 do
      local j = i - CHUNK + 1
      if j < 1 then j = 1 end
      local w = i - j + 1
      local s = tonumber(ssub(a, j, i)) - tonumber(ssub(b, j, i)) - borrow
      if s < 0 then s, borrow = s + 10 ^ w, 1 else borrow = 0 end
      n = n + 1
      out[n] = sformat("%0" .. w .. ".0f", s)
      i = j - 1
    end
    local r = {}
    for k = n, 1, -1 do r[n - k + 1] = out[k] end
    return tconcat(r)
  end

  local function dec_add(a, b)
    -- Fast path: integers of up to 15 digits add exactly in doubles.
    if #a <= 15 and #b <= 15 and sfind(a, "^%-?%d+$") and sfind(b, "^%-?%d+$") then
      return sformat("%.0f", tonumber(a) + tonumber(b))
    end
    local na, ia, fa = dec_split(a, "the stored number")
    local nb, ib, fb = dec_split(b, "the increment")
    local scale = #fa > #fb and #fa or #fb
    local width = (#ia > #ib and #ia or #ib) + scale
    local ma = ia .. fa .. srep("0", scale - #fa)
    local mb = ib .. fb .. srep("0", scale - #fb)
    ma = srep("0", width - #ma) .. ma
    mb = srep("0", width - #mb) .. mb
    local neg, mag
    if na == nb then
      neg, mag = na, mag_add(ma, mb)
    elseif ma >= mb then
      neg, mag = na, mag_sub(ma, mb)
    else
      neg, mag = nb, mag_sub(mb, ma)
    end
    local int, frac = ssub(mag, 1, #mag - scale), ssub(mag, #mag - scale + 1)
    local first = sfind(int, "[1-9]")
    int = first and ssub(int, first) or "0"
    if neg and not sfind(mag, "[1-9]") then neg = false end
    return (neg and "-" or "") .. int .. (scale > 0 and ("." .. frac) or "")
  end

  local INT64_MAX = "9223372036854775807"

  local function dec_fits_int64(s)
    local digits = smatch(s, "^%-?(%d+)$")
    return digits ~= nil and (#digits < 19 or (#digits == 19 and digits <= INT64_MAX))
  end

  -- A double prints back any decimal of at most 15 significant digits unchanged.
  local function dec_fits_double(s)
    local _, int, frac = dec_split(s, "the number")
    local digits = (int .. frac):gsub("^0+", ""):gsub("0+$", "")
    return #digits <= 15
  end

  Decimal.dec_add, Decimal.dec_fits_int64, Decimal.dec_fits_double = dec_add, dec_fits_int64, dec_fits_double
end
