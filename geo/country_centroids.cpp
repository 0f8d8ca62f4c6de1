// The built-in country centroid table (declared in geo/country_centroids.hpp).
// Approximate geographic centres in degrees, one per ISO 3166-1 alpha-2
// code plus XK, sorted by code for the binary search. Overseas territories
// have their own codes and entries; a country's entry is its main territory.

#include "geo/country_centroids.hpp"

#include <algorithm>
#include <cstring>

namespace meridian::geo {
namespace {

constexpr CountryCentroid kCentroids[] = {
    {"AD", {42.55, 1.60}},      // Andorra
    {"AE", {23.42, 53.85}},     // United Arab Emirates
    {"AF", {33.94, 67.71}},     // Afghanistan
    {"AG", {17.06, -61.80}},    // Antigua and Barbuda
    {"AI", {18.22, -63.07}},    // Anguilla
    {"AL", {41.15, 20.17}},     // Albania
    {"AM", {40.07, 45.04}},     // Armenia
    {"AO", {-11.20, 17.87}},    // Angola
    {"AQ", {-75.25, -0.07}},    // Antarctica
    {"AR", {-38.42, -63.62}},   // Argentina
    {"AS", {-14.27, -170.13}},  // American Samoa
    {"AT", {47.52, 14.55}},     // Austria
    {"AU", {-25.27, 133.78}},   // Australia
    {"AW", {12.52, -69.97}},    // Aruba
    {"AX", {60.18, 19.92}},     // Aland Islands
    {"AZ", {40.14, 47.58}},     // Azerbaijan
    {"BA", {43.92, 17.68}},     // Bosnia and Herzegovina
    {"BB", {13.19, -59.54}},    // Barbados
    {"BD", {23.68, 90.36}},     // Bangladesh
    {"BE", {50.50, 4.47}},      // Belgium
    {"BF", {12.24, -1.56}},     // Burkina Faso
    {"BG", {42.73, 25.49}},     // Bulgaria
    {"BH", {25.93, 50.64}},     // Bahrain
    {"BI", {-3.37, 29.92}},     // Burundi
    {"BJ", {9.31, 2.32}},       // Benin
    {"BL", {17.90, -62.83}},    // Saint Barthelemy
    {"BM", {32.32, -64.76}},    // Bermuda
    {"BN", {4.54, 114.73}},     // Brunei
    {"BO", {-16.29, -63.59}},   // Bolivia
    {"BQ", {12.18, -68.24}},    // Caribbean Netherlands
    {"BR", {-14.24, -51.93}},   // Brazil
    {"BS", {25.03, -77.40}},    // Bahamas
    {"BT", {27.51, 90.43}},     // Bhutan
    {"BV", {-54.42, 3.41}},     // Bouvet Island
    {"BW", {-22.33, 24.68}},    // Botswana
    {"BY", {53.71, 27.95}},     // Belarus
    {"BZ", {17.19, -88.50}},    // Belize
    {"CA", {56.13, -106.35}},   // Canada
    {"CC", {-12.16, 96.87}},    // Cocos (Keeling) Islands
    {"CD", {-4.04, 21.76}},     // Congo (Kinshasa)
    {"CF", {6.61, 20.94}},      // Central African Republic
    {"CG", {-0.23, 15.83}},     // Congo (Brazzaville)
    {"CH", {46.82, 8.23}},      // Switzerland
    {"CI", {7.54, -5.55}},      // Cote d'Ivoire
    {"CK", {-21.24, -159.78}},  // Cook Islands
    {"CL", {-35.68, -71.54}},   // Chile
    {"CM", {7.37, 12.35}},      // Cameroon
    {"CN", {35.86, 104.20}},    // China
    {"CO", {4.57, -74.30}},     // Colombia
    {"CR", {9.75, -83.75}},     // Costa Rica
    {"CU", {21.52, -77.78}},    // Cuba
    {"CV", {16.00, -24.01}},    // Cabo Verde
    {"CW", {12.17, -68.99}},    // Curacao
    {"CX", {-10.45, 105.69}},   // Christmas Island
    {"CY", {35.13, 33.43}},     // Cyprus
    {"CZ", {49.82, 15.47}},     // Czechia
    {"DE", {51.17, 10.45}},     // Germany
    {"DJ", {11.83, 42.59}},     // Djibouti
    {"DK", {56.26, 9.50}},      // Denmark
    {"DM", {15.41, -61.37}},    // Dominica
    {"DO", {18.74, -70.16}},    // Dominican Republic
    {"DZ", {28.03, 1.66}},      // Algeria
    {"EC", {-1.83, -78.18}},    // Ecuador
    {"EE", {58.60, 25.01}},     // Estonia
    {"EG", {26.82, 30.80}},     // Egypt
    {"EH", {24.22, -12.89}},    // Western Sahara
    {"ER", {15.18, 39.78}},     // Eritrea
    {"ES", {40.46, -3.75}},     // Spain
    {"ET", {9.15, 40.49}},      // Ethiopia
    {"FI", {61.92, 25.75}},     // Finland
    {"FJ", {-16.58, 179.41}},   // Fiji
    {"FK", {-51.80, -59.52}},   // Falkland Islands
    {"FM", {7.43, 150.55}},     // Micronesia
    {"FO", {61.89, -6.91}},     // Faroe Islands
    {"FR", {46.23, 2.21}},      // France
    {"GA", {-0.80, 11.61}},     // Gabon
    {"GB", {55.38, -3.44}},     // United Kingdom
    {"GD", {12.26, -61.60}},    // Grenada
    {"GE", {42.32, 43.36}},     // Georgia
    {"GF", {3.93, -53.13}},     // French Guiana
    {"GG", {49.47, -2.59}},     // Guernsey
    {"GH", {7.95, -1.02}},      // Ghana
    {"GI", {36.14, -5.35}},     // Gibraltar
    {"GL", {71.71, -42.60}},    // Greenland
    {"GM", {13.44, -15.31}},    // Gambia
    {"GN", {9.95, -9.70}},      // Guinea
    {"GP", {16.25, -61.58}},    // Guadeloupe
    {"GQ", {1.65, 10.27}},      // Equatorial Guinea
    {"GR", {39.07, 21.82}},     // Greece
    {"GS", {-54.43, -36.59}},   // South Georgia and the South Sandwich Islands
    {"GT", {15.78, -90.23}},    // Guatemala
    {"GU", {13.44, 144.79}},    // Guam
    {"GW", {11.80, -15.18}},    // Guinea-Bissau
    {"GY", {4.86, -58.93}},     // Guyana
    {"HK", {22.40, 114.11}},    // Hong Kong
    {"HM", {-53.08, 73.50}},    // Heard Island and McDonald Islands
    {"HN", {15.20, -86.24}},    // Honduras
    {"HR", {45.10, 15.20}},     // Croatia
    {"HT", {18.97, -72.29}},    // Haiti
    {"HU", {47.16, 19.50}},     // Hungary
    {"ID", {-0.79, 113.92}},    // Indonesia
    {"IE", {53.41, -8.24}},     // Ireland
    {"IL", {31.05, 34.85}},     // Israel
    {"IM", {54.24, -4.55}},     // Isle of Man
    {"IN", {20.59, 78.96}},     // India
    {"IO", {-6.34, 71.88}},     // British Indian Ocean Territory
    {"IQ", {33.22, 43.68}},     // Iraq
    {"IR", {32.43, 53.69}},     // Iran
    {"IS", {64.96, -19.02}},    // Iceland
    {"IT", {41.87, 12.57}},     // Italy
    {"JE", {49.21, -2.13}},     // Jersey
    {"JM", {18.11, -77.30}},    // Jamaica
    {"JO", {30.59, 36.24}},     // Jordan
    {"JP", {36.20, 138.25}},    // Japan
    {"KE", {-0.02, 37.91}},     // Kenya
    {"KG", {41.20, 74.77}},     // Kyrgyzstan
    {"KH", {12.57, 104.99}},    // Cambodia
    {"KI", {1.87, -157.36}},    // Kiribati
    {"KM", {-11.88, 43.87}},    // Comoros
    {"KN", {17.36, -62.78}},    // Saint Kitts and Nevis
    {"KP", {40.34, 127.51}},    // North Korea
    {"KR", {35.91, 127.77}},    // South Korea
    {"KW", {29.31, 47.48}},     // Kuwait
    {"KY", {19.51, -80.57}},    // Cayman Islands
    {"KZ", {48.02, 66.92}},     // Kazakhstan
    {"LA", {19.86, 102.50}},    // Laos
    {"LB", {33.85, 35.86}},     // Lebanon
    {"LC", {13.91, -60.98}},    // Saint Lucia
    {"LI", {47.17, 9.56}},      // Liechtenstein
    {"LK", {7.87, 80.77}},      // Sri Lanka
    {"LR", {6.43, -9.43}},      // Liberia
    {"LS", {-29.61, 28.23}},    // Lesotho
    {"LT", {55.17, 23.88}},     // Lithuania
    {"LU", {49.82, 6.13}},      // Luxembourg
    {"LV", {56.88, 24.60}},     // Latvia
    {"LY", {26.34, 17.23}},     // Libya
    {"MA", {31.79, -7.09}},     // Morocco
    {"MC", {43.75, 7.41}},      // Monaco
    {"MD", {47.41, 28.37}},     // Moldova
    {"ME", {42.71, 19.37}},     // Montenegro
    {"MF", {18.08, -63.05}},    // Saint Martin
    {"MG", {-18.77, 46.87}},    // Madagascar
    {"MH", {7.13, 171.18}},     // Marshall Islands
    {"MK", {41.61, 21.75}},     // North Macedonia
    {"ML", {17.57, -4.00}},     // Mali
    {"MM", {21.91, 95.96}},     // Myanmar
    {"MN", {46.86, 103.85}},    // Mongolia
    {"MO", {22.20, 113.54}},    // Macao
    {"MP", {15.18, 145.75}},    // Northern Mariana Islands
    {"MQ", {14.64, -61.02}},    // Martinique
    {"MR", {21.01, -10.94}},    // Mauritania
    {"MS", {16.74, -62.19}},    // Montserrat
    {"MT", {35.94, 14.38}},     // Malta
    {"MU", {-20.35, 57.55}},    // Mauritius
    {"MV", {3.20, 73.22}},      // Maldives
    {"MW", {-13.25, 34.30}},    // Malawi
    {"MX", {23.63, -102.55}},   // Mexico
    {"MY", {4.21, 101.98}},     // Malaysia
    {"MZ", {-18.67, 35.53}},    // Mozambique
    {"NA", {-22.96, 18.49}},    // Namibia
    {"NC", {-20.90, 165.62}},   // New Caledonia
    {"NE", {17.61, 8.08}},      // Niger
    {"NF", {-29.04, 167.95}},   // Norfolk Island
    {"NG", {9.08, 8.68}},       // Nigeria
    {"NI", {12.87, -85.21}},    // Nicaragua
    {"NL", {52.13, 5.29}},      // Netherlands
    {"NO", {60.47, 8.47}},      // Norway
    {"NP", {28.39, 84.12}},     // Nepal
    {"NR", {-0.52, 166.93}},    // Nauru
    {"NU", {-19.05, -169.87}},  // Niue
    {"NZ", {-40.90, 174.89}},   // New Zealand
    {"OM", {21.51, 55.92}},     // Oman
    {"PA", {8.54, -80.78}},     // Panama
    {"PE", {-9.19, -75.02}},    // Peru
    {"PF", {-17.68, -149.41}},  // French Polynesia
    {"PG", {-6.31, 143.96}},    // Papua New Guinea
    {"PH", {12.88, 121.77}},    // Philippines
    {"PK", {30.38, 69.35}},     // Pakistan
    {"PL", {51.92, 19.15}},     // Poland
    {"PM", {46.94, -56.27}},    // Saint Pierre and Miquelon
    {"PN", {-24.70, -127.44}},  // Pitcairn
    {"PR", {18.22, -66.59}},    // Puerto Rico
    {"PS", {31.95, 35.23}},     // Palestine
    {"PT", {39.40, -8.22}},     // Portugal
    {"PW", {7.51, 134.58}},     // Palau
    {"PY", {-23.44, -58.44}},   // Paraguay
    {"QA", {25.35, 51.18}},     // Qatar
    {"RE", {-21.12, 55.54}},    // Reunion
    {"RO", {45.94, 24.97}},     // Romania
    {"RS", {44.02, 21.01}},     // Serbia
    {"RU", {61.52, 105.32}},    // Russia
    {"RW", {-1.94, 29.87}},     // Rwanda
    {"SA", {23.89, 45.08}},     // Saudi Arabia
    {"SB", {-9.65, 160.16}},    // Solomon Islands
    {"SC", {-4.68, 55.49}},     // Seychelles
    {"SD", {15.50, 30.00}},     // Sudan
    {"SE", {60.13, 18.64}},     // Sweden
    {"SG", {1.35, 103.82}},     // Singapore
    {"SH", {-15.97, -5.71}},    // Saint Helena
    {"SI", {46.15, 14.99}},     // Slovenia
    {"SJ", {77.55, 23.67}},     // Svalbard and Jan Mayen
    {"SK", {48.67, 19.70}},     // Slovakia
    {"SL", {8.46, -11.78}},     // Sierra Leone
    {"SM", {43.94, 12.46}},     // San Marino
    {"SN", {14.50, -14.45}},    // Senegal
    {"SO", {5.15, 46.20}},      // Somalia
    {"SR", {3.92, -56.03}},     // Suriname
    {"SS", {7.86, 29.69}},      // South Sudan
    {"ST", {0.19, 6.61}},       // Sao Tome and Principe
    {"SV", {13.79, -88.90}},    // El Salvador
    {"SX", {18.04, -63.07}},    // Sint Maarten
    {"SY", {34.80, 39.00}},     // Syria
    {"SZ", {-26.52, 31.47}},    // Eswatini
    {"TC", {21.69, -71.80}},    // Turks and Caicos Islands
    {"TD", {15.45, 18.73}},     // Chad
    {"TF", {-49.28, 69.35}},    // French Southern Territories
    {"TG", {8.62, 0.82}},       // Togo
    {"TH", {15.87, 100.99}},    // Thailand
    {"TJ", {38.86, 71.28}},     // Tajikistan
    {"TK", {-8.97, -171.86}},   // Tokelau
    {"TL", {-8.87, 125.73}},    // Timor-Leste
    {"TM", {38.97, 59.56}},     // Turkmenistan
    {"TN", {33.89, 9.54}},      // Tunisia
    {"TO", {-21.18, -175.20}},  // Tonga
    {"TR", {38.96, 35.24}},     // Turkey
    {"TT", {10.69, -61.22}},    // Trinidad and Tobago
    {"TV", {-7.11, 177.65}},    // Tuvalu
    {"TW", {23.70, 120.96}},    // Taiwan
    {"TZ", {-6.37, 34.89}},     // Tanzania
    {"UA", {48.38, 31.17}},     // Ukraine
    {"UG", {1.37, 32.29}},      // Uganda
    {"UM", {19.28, 166.65}},    // United States Minor Outlying Islands
    {"US", {37.09, -95.71}},    // United States
    {"UY", {-32.52, -55.77}},   // Uruguay
    {"UZ", {41.38, 64.59}},     // Uzbekistan
    {"VA", {41.90, 12.45}},     // Vatican City
    {"VC", {12.98, -61.29}},    // Saint Vincent and the Grenadines
    {"VE", {6.42, -66.59}},     // Venezuela
    {"VG", {18.42, -64.64}},    // British Virgin Islands
    {"VI", {18.34, -64.90}},    // U.S. Virgin Islands
    {"VN", {14.06, 108.28}},    // Vietnam
    {"VU", {-15.38, 166.96}},   // Vanuatu
    {"WF", {-13.77, -177.16}},  // Wallis and Futuna
    {"WS", {-13.76, -172.10}},  // Samoa
    {"XK", {42.60, 20.90}},     // Kosovo
    {"YE", {15.55, 48.52}},     // Yemen
    {"YT", {-12.83, 45.17}},    // Mayotte
    {"ZA", {-30.56, 22.94}},    // South Africa
    {"ZM", {-13.13, 27.85}},    // Zambia
    {"ZW", {-19.02, 29.15}},    // Zimbabwe
};

constexpr bool sorted_and_distinct() {
  for (std::size_t i = 1; i < std::size(kCentroids); ++i) {
    const auto& a = kCentroids[i - 1].code;
    const auto& b = kCentroids[i].code;
    if (a[0] > b[0] || (a[0] == b[0] && a[1] >= b[1])) return false;
  }
  return true;
}
static_assert(sorted_and_distinct(), "country centroids must be sorted by code, each code once");
static_assert(std::size(kCentroids) == 250, "249 ISO 3166-1 codes and XK");

}  // namespace

std::span<const CountryCentroid> country_centroids() noexcept {
  return kCentroids;
}

std::optional<Coordinates> country_centroid(std::string_view code) noexcept {
  if (code.size() != 2) return std::nullopt;
  const auto* end = std::end(kCentroids);
  const auto* it = std::lower_bound(std::begin(kCentroids), end, code,
                                    [](const CountryCentroid& entry, std::string_view key) {
                                      return std::string_view(entry.code, 2) < key;
                                    });
  if (it == end || std::string_view(it->code, 2) != code) return std::nullopt;
  return it->centroid;
}

Placement place(const Location& location, Coordinates& out) noexcept {
  if (location.has_coordinates) {
    out = {location.latitude_deg, location.longitude_deg};
    return Placement::coordinates;
  }
  const std::string_view country(location.country.data(), ::strnlen(location.country.data(), 2));
  const auto centroid = country_centroid(country);
  if (!centroid) return Placement::none;
  out = *centroid;
  return Placement::country_centroid;
}

}  // namespace meridian::geo
