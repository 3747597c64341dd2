# The download script of the manual installation procedure, as written there
# but for base_url, which the test replaces with the loopback release tree.
# The caller sets platform, as the procedure instructs the reader.
prefix=/opt/circleci
sudo mkdir -p "$prefix/workdir"
base_url="@BASE_URL@"
echo "Determining latest version of CircleCI Launch Agent"
agent_version=$(curl "$base_url/release.txt")
echo "Using CircleCI Launch Agent version $agent_version"
echo "Downloading and verifying CircleCI Launch Agent Binary"
curl -sSL "$base_url/$agent_version/checksums.txt" -o checksums.txt
IFS=" " read -r -a selected <<< "$(grep -F "$platform" checksums.txt)"
checksum=${selected[0]}
file=${selected[1]:1}
mkdir -p "$platform"
echo "Downloading CircleCI Launch Agent: $file"
curl --compressed -L "$base_url/$agent_version/$file" -o "$file"
echo "Verifying CircleCI Launch Agent download"
sha256sum --check --ignore-missing checksums.txt && chmod +x "$file"; sudo mv "$file" "$prefix/circleci-launch-agent" || echo "Invalid checksum for CircleCI Launch Agent, please try download again"
