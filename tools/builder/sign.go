package builder

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Signer signs APT repository metadata with one OpenPGP key.
type Signer struct {
	entity *openpgp.Entity
}

// LoadSigner reads an OpenPGP secret key, armored or binary, from path. An
// encrypted key is decrypted with passphrase.
func LoadSigner(path string, passphrase []byte) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	var entities openpgp.EntityList
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		entities, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		entities, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	for _, entity := range entities {
		if entity.PrivateKey == nil {
			continue
		}
		if entity.PrivateKey.Encrypted {
			if len(passphrase) == 0 {
				return nil, fmt.Errorf("signing key %s is encrypted and no passphrase was given", path)
			}
			if err := entity.DecryptPrivateKeys(passphrase); err != nil {
				return nil, fmt.Errorf("decrypt signing key %s: %w", path, err)
			}
		}
		return &Signer{entity: entity}, nil
	}
	return nil, fmt.Errorf("%s contains no OpenPGP secret key", path)
}

// config returns the signing configuration for signatures made at now. The
// salt notation that go-crypto adds by default is turned off, because it
// makes every signature different and builds no longer reproducible.
func (s *Signer) config(now time.Time) *packet.Config {
	// A signature older than its key is invalid, so a build date before
	// the key's creation uses the creation time instead.
	if created := s.entity.PrimaryKey.CreationTime; now.Before(created) {
		now = created
	}
	deterministic := false
	return &packet.Config{
		DefaultHash:                           crypto.SHA256,
		Time:                                  func() time.Time { return now },
		NonDeterministicSignaturesViaNotation: &deterministic,
	}
}

// ClearSign returns message as a clear-signed document (InRelease).
func (s *Signer) ClearSign(message []byte, now time.Time) ([]byte, error) {
	config := s.config(now)
	key, ok := s.entity.SigningKey(config.Now())
	if !ok {
		return nil, errors.New("the signing key has no valid signing subkey")
	}
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, key.PrivateKey, config)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(message); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DetachSign returns an armored detached signature of message (Release.gpg).
func (s *Signer) DetachSign(message []byte, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.entity, bytes.NewReader(message), s.config(now)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WritePublicKey writes the public key in binary form, as apt's signed-by
// option and /etc/apt/keyrings expect in a .gpg file.
func (s *Signer) WritePublicKey(w io.Writer) error {
	return s.entity.Serialize(w)
}

// WriteArmoredPublicKey writes the public key armored, for an .asc file.
func (s *Signer) WriteArmoredPublicKey(w io.Writer) error {
	aw, err := armor.Encode(w, openpgp.PublicKeyType, nil)
	if err != nil {
		return err
	}
	if err := s.entity.Serialize(aw); err != nil {
		return err
	}
	return aw.Close()
}

// GenerateKey writes a new unencrypted Ed25519 secret key, armored, to
// path. It is meant for tests and local builds, never for a published
// repository. created is the key's creation time; signatures dated before
// it are invalid.
func GenerateKey(path, name, email string, created time.Time) error {
	config := &packet.Config{
		Algorithm: packet.PubKeyAlgoEdDSA,
		Time:      func() time.Time { return created },
	}
	entity, err := openpgp.NewEntity(name, "", email, config)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	aw, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		return err
	}
	if err := entity.SerializePrivate(aw, config); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}
